"""Shared test setup: Airflow gets a throwaway home before any test imports it."""

from __future__ import annotations

import os
import tempfile

# Airflow reads AIRFLOW_HOME once, at its first import, and may write airflow.cfg there.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
