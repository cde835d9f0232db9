"""Test session set-up: an isolated Airflow home, created before Airflow is imported, and a
real OpenBao dev server for the whole session."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Airflow reads AIRFLOW_HOME when first imported, so point it at a throw-away folder now:
# no test may read or write the developer's own airflow.cfg or database.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="vault-provider-airflow-home-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")

from tests.support.init_program import InitWorkspace  # noqa: E402
from tests.support.openbao import OpenBaoServer, TokenReviewDouble, running_openbao  # noqa: E402


@pytest.fixture(scope="session")
def openbao() -> Iterator[OpenBaoServer]:
    """A `bao server -dev` on 127.0.0.1, shared by the session, so each test enables its own mounts."""
    with running_openbao() as server:
        yield server


@pytest.fixture
def tokenreview_double() -> Iterator[TokenReviewDouble]:
    """A loopback double of the Kubernetes TokenReview API, for the kubernetes auth method."""
    with TokenReviewDouble() as double:
        yield double


@pytest.fixture
def workspace(tmp_path: Path) -> InitWorkspace:
    """A temporary stand-in for a task pod in which to run the init program."""
    return InitWorkspace(tmp_path)
