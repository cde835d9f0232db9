"""Shared fixtures: a real OpenBao dev server for the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.init_program import InitWorkspace
from tests.support.openbao import OpenBaoServer, TokenReviewDouble, running_openbao


@pytest.fixture(scope="session")
def openbao() -> Iterator[OpenBaoServer]:
    """A `bao server -dev` on 127.0.0.1, shared by the session, so each test enables its own mounts."""
    with running_openbao() as server:
        yield server


@pytest.fixture
def tokenreview_double() -> Iterator[TokenReviewDouble]:
    """A loopback double of the Kubernetes TokenReview API, for the kubernetes auth method."""
    double = TokenReviewDouble().start()
    try:
        yield double
    finally:
        double.stop()


@pytest.fixture
def workspace(tmp_path: Path) -> InitWorkspace:
    """A temporary stand-in for a task pod in which to run the init program."""
    return InitWorkspace(tmp_path)
