"""A mapped VaultKubernetesPodOperator task (two map indexes), for the DAG run tests."""

from __future__ import annotations

import datetime

from airflow_vault_provider.operators.vault_pod import VaultKubernetesPodOperator

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG  # type: ignore[assignment]

with DAG(
    dag_id="vault_mapped",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
):
    VaultKubernetesPodOperator.partial(
        task_id="mapped",
        image="python:3.12-slim",
        vault_role="etl-reader",
        vault_secrets={"db.json": "secret/data/etl/db"},
    ).expand(arguments=[["first"], ["second"]])
