"""Helpers for the VaultKubernetesPodOperator tests: settings, task contexts and pod checks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from kubernetes.client import ApiClient
from kubernetes.client import models as k8s
from kubernetes_validate.utils import latest_version

from tests.support.kube_api_server import KubeApiServerDouble

VAULT_ADDR = "https://vault.vault.svc:8200"
WORKER_REPOSITORY = "registry.example.com/airflow"
WORKER_TAG = "2.11.0-vault"
WORKER_IMAGE = f"{WORKER_REPOSITORY}:{WORKER_TAG}"
TASK_IMAGE = "python:3.12-slim"
NAMESPACE = "tasks"

# The oldest Kubernetes release the provider supports, and the newest kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.29.0", latest_version())


@pytest.fixture
def vault_conf(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set `[vault_init]` and the worker image through Airflow's environment variables."""
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__VAULT_ADDR", VAULT_ADDR)
    monkeypatch.setenv("AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_REPOSITORY", WORKER_REPOSITORY)
    monkeypatch.setenv("AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_TAG", WORKER_TAG)
    yield monkeypatch


def kubernetes_connection(monkeypatch: pytest.MonkeyPatch, kubeconfig: str) -> None:
    """Define `kubernetes_default` by environment variable, so no metadata database is needed."""
    connection = {"conn_type": "kubernetes", "extra": {"kube_config_path": kubeconfig, "namespace": NAMESPACE}}
    monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", json.dumps(connection))


def serve_kube_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[KubeApiServerDouble]:
    """Run a `KubeApiServerDouble` and point `kubernetes_default` at it, for a fixture to yield from."""
    with KubeApiServerDouble() as api:
        kubernetes_connection(monkeypatch, str(api.write_kubeconfig(tmp_path / "kubeconfig")))
        yield api


class TaskInstanceDouble:
    """The task instance fields KubernetesPodOperator reads, and a record of its XCom pushes.

    A double: a real TaskInstance needs a scheduler-side database on Airflow 2 and a
    supervisor process on Airflow 3. The DAG run tests use real ones.
    """

    def __init__(self, try_number: int = 1, map_index: int = -1) -> None:
        self.dag_id = "vault_operator_test"
        self.task_id = "fetch"
        self.try_number = try_number
        self.map_index = map_index
        self.start_date = None
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any, **kwargs: Any) -> None:
        self.pushed[key] = value


class _DagDouble:
    dag_id = "vault_operator_test"
    parent_dag = None


def task_context(try_number: int = 1) -> dict[str, Any]:
    """Return the parts of a task context that the operator reads."""
    return {"ti": TaskInstanceDouble(try_number), "run_id": "manual__2026-01-01", "dag": _DagDouble()}


def serialise(pod: k8s.V1Pod) -> dict[str, Any]:
    """Return ``pod`` as the `kubernetes` client sends it to the API server."""
    return ApiClient().sanitize_for_serialization(pod)


def validate(body: dict[str, Any]) -> None:
    """Validate a pod body strictly against the oldest supported and the newest Kubernetes schema."""
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(body, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            raise AssertionError(f"pod is invalid for Kubernetes {version}: {error.message}") from None


def names(items: list[dict[str, Any]] | None) -> list[str]:
    return [item["name"] for item in items or ()]


def assert_one_vault_init(body: dict[str, Any], base_container: str = "base") -> None:
    """Check the pod contract pieces that must appear exactly once."""
    spec = body["spec"]
    assert names(spec.get("initContainers")).count("vault-init") == 1
    assert names(spec.get("volumes")).count("vault-secrets") == 1
    task = next(container for container in spec["containers"] if container["name"] == base_container)
    assert names(task.get("volumeMounts")).count("vault-secrets") == 1
    assert names(task.get("env")).count("VAULT_TOKEN_FILE") == 1
    assert body["metadata"]["annotations"]["vault.airflow/status"] == "injected"


def init_container(body: dict[str, Any], name: str = "vault-init") -> dict[str, Any]:
    return next(container for container in body["spec"]["initContainers"] if container["name"] == name)


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {var["name"]: var.get("value") for var in container.get("env") or ()}
