"""The stock KubernetesPodOperator with the fallback pod mutation hook.

For deployments that keep the stock executor and operators. `airflow_local_settings.py`
on the workers (and on the scheduler, for executor pods) contains one line:

    from airflow_vault_provider.mutation import pod_mutation_hook

The hook reads these `vault.airflow/*` annotations exactly as the executor and
VaultKubernetesPodOperator do. `vault-init` needs `[vault_init] image` or
`[kubernetes_executor] worker_container_repository` here too.
"""

from __future__ import annotations

import datetime

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG  # type: ignore[assignment]

CHECK_TOKEN = "import os; print('token file present:', os.path.exists(os.environ['VAULT_TOKEN_FILE']))"

with DAG(
    dag_id="example_vault_hook",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    tags=["example", "vault"],
):
    KubernetesPodOperator(
        task_id="read_token_with_stock_operator",
        image="python:3.12-slim",
        cmds=["python", "-c", CHECK_TOKEN],
        annotations={
            "vault.airflow/inject": "true",
            "vault.airflow/role": "etl-reader",
            "vault.airflow/secret-db.env": "secret/data/etl/db",
            "vault.airflow/secret-db.env-format": "env",
        },
    )
