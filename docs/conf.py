"""Sphinx configuration of the airflow-vault-provider documentation (MyST Markdown)."""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
# The package's top level imports only the standard library, so the docs build from a
# source checkout. The local extension in _ext/ writes the reference pages from it.
sys.path[:0] = [str(DOCS.parent), str(DOCS / "_ext")]

from airflow_vault_provider import __version__  # noqa: E402

project = "airflow-vault-provider"
author = "airflow-vault-provider developers"
copyright = "airflow-vault-provider developers"
version = release = __version__

extensions = ["myst_parser", "provider_reference"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_ext"]

# Anchors for headings down to level 3, so pages can link to `page.md#some-heading`.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

html_theme = "alabaster"
html_title = f"airflow-vault-provider {release}"
