"""A plain task whose executor pod gets a Vault token: VaultKubernetesExecutor.

Needs `executor = airflow_vault_provider.executors.vault_kubernetes_executor.VaultKubernetesExecutor`
and `[vault_init] vault_addr` and `role`. The `pod_override` below adds settings for this task
only, as `vault.airflow/*` annotations: a rendered secret file next to the token.
"""

from __future__ import annotations

import datetime

from kubernetes.client import models as k8s

try:
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2
    from airflow import DAG  # type: ignore[assignment]
    from airflow.decorators import task  # type: ignore[no-redef,attr-defined]

VAULT_POD_OVERRIDE = k8s.V1Pod(
    metadata=k8s.V1ObjectMeta(
        annotations={
            "vault.airflow/role": "etl-reader",
            "vault.airflow/secret-db.json": "secret/data/etl/db",
        }
    )
)

with DAG(
    dag_id="example_vault_executor",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    tags=["example", "vault"],
):

    @task(executor_config={"pod_override": VAULT_POD_OVERRIDE})
    def read_with_pod_token() -> list[str]:
        """Read a secret with hvac, using the token vault-init wrote instead of logging in again."""
        import json
        import os

        import hvac

        with open(os.environ["VAULT_TOKEN_FILE"]) as token_file:
            client = hvac.Client(url=os.environ["VAULT_ADDR"], token=token_file.read().strip())
        secret = client.secrets.kv.v2.read_secret_version(path="etl/db", mount_point="secret")

        # vault-init rendered the same secret into a file next to the token.
        token_dir = os.path.dirname(os.environ["VAULT_TOKEN_FILE"])
        with open(os.path.join(token_dir, "db.json")) as rendered:
            rendered_keys = sorted(json.load(rendered))

        # Return key names only: a secret value must never reach XCom or the logs.
        assert sorted(secret["data"]["data"]) == rendered_keys
        return rendered_keys

    read_with_pod_token()
