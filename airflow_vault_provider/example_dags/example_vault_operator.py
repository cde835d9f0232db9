"""VaultKubernetesPodOperator: a pod that reads a secret file rendered by vault-init.

`vault_role` and `vault_secrets` are templated; here they come from the DAG's params, so a
manual run may pass other values in its run configuration. `vault-init` runs the Airflow
worker image (`[vault_init] image` or `[kubernetes_executor] worker_container_repository`),
so the task image needs nothing from this provider.
"""

from __future__ import annotations

import datetime

from airflow_vault_provider.operators.vault_pod import VaultKubernetesPodOperator

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG  # type: ignore[assignment]

READ_SECRET = """
import json, os
with open("/vault/secrets/db.json") as rendered:
    credentials = json.load(rendered)
# Print key names only: a secret value must never reach the task log.
print("db.json has keys", sorted(credentials))
print("token file present:", os.path.exists(os.environ["VAULT_TOKEN_FILE"]))
"""

with DAG(
    dag_id="example_vault_operator",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    params={"vault_role": "etl-reader", "db_secret_path": "secret/data/etl/db"},
    tags=["example", "vault"],
):
    VaultKubernetesPodOperator(
        task_id="read_rendered_secret",
        image="python:3.12-slim",
        cmds=["python", "-c", READ_SECRET],
        vault_role="{{ params.vault_role }}",
        vault_secrets={
            "db.json": "{{ params.db_secret_path }}",
            "api-token.txt": {"path": "secret/data/etl/api", "format": "raw", "key": "token"},
        },
        on_finish_action="delete_pod",
    )
