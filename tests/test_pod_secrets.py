"""No secret value ever reaches the pod spec: only references to where secrets live."""

from __future__ import annotations

import secrets as random_secrets

from kubernetes.client import models as k8s

from airflow_vault_provider.injection import inject_vault_init
from tests.support.pods import annotated_override, pod_text, settings, worker_pod


def test_no_secret_value_in_serialised_pod(monkeypatch):
    # Values a careless integration could copy into the spec: an AppRole secret id and a
    # Vault token, present in the scheduler's environment where the injection runs.
    secret_id = "sid-" + random_secrets.token_hex(16)
    token = "hvs." + random_secrets.token_urlsafe(24)
    monkeypatch.setenv("VAULT_TOKEN", token)
    monkeypatch.setenv("VAULT_INIT_APPROLE_SECRET_ID", secret_id)
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__APPROLE_SECRET_ID", secret_id)
    template_secret = k8s.V1Secret(string_data={"secret-id": secret_id})
    assert template_secret.string_data["secret-id"] == secret_id

    config = settings(
        auth_method="approle",
        approle_role_id="role-id-1",
        approle_secret_id_secret="airflow-approle/secret-id",
        secrets='{"db.json": "secret/data/db"}',
    )
    override = annotated_override({"vault.airflow/secret-api": "secret/data/api"})
    pod = inject_vault_init(worker_pod(override=override), config)

    text = pod_text(pod)
    assert secret_id not in text
    assert token not in text
    assert '"secretKeyRef": {"key": "secret-id", "name": "airflow-approle"}' in text
