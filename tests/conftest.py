"""Test session set-up: an isolated Airflow home, created before Airflow is imported."""

from __future__ import annotations

import os
import tempfile

# Airflow reads AIRFLOW_HOME when first imported, so point it at a throw-away folder now:
# no test may read or write the developer's own airflow.cfg or database.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="vault-provider-airflow-home-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
