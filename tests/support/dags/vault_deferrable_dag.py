"""A deferrable VaultKubernetesPodOperator task, for the DAG run tests."""

from __future__ import annotations

import datetime

from airflow_vault_provider.operators.vault_pod import VaultKubernetesPodOperator

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG  # type: ignore[assignment]

with DAG(
    dag_id="vault_deferrable",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    params={"vault_role": "etl-reader"},
):
    VaultKubernetesPodOperator(
        task_id="deferred",
        image="python:3.12-slim",
        vault_role="{{ params.vault_role }}",
        vault_secrets={"db.json": "secret/data/{{ dag.dag_id }}/db"},
        deferrable=True,
        poll_interval=1,
    )
