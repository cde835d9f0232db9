"""Realistic worker pods built by the real `PodGenerator.construct_pod`, and schema checks."""

from __future__ import annotations

import json
from typing import Any

import kubernetes_validate
from airflow.providers.cncf.kubernetes.pod_generator import PodGenerator
from kubernetes.client import ApiClient
from kubernetes.client import models as k8s
from kubernetes_validate import utils as validate_utils

from airflow_vault_provider.config import VaultInitConfig

WORKER_IMAGE = "registry.example.com/airflow:3.3.2-vault"
OLDEST_KUBERNETES = "1.29.0"
NEWEST_KUBERNETES = validate_utils.latest_version()

_API_CLIENT = ApiClient()


def settings(**overrides: str) -> VaultInitConfig:
    """Return settings parsed from `[vault_init]`-style strings, with a role and address set."""
    raw = {"vault_addr": "https://vault.vault.svc:8200", "role": "airflow-worker", **overrides}
    return VaultInitConfig.from_mapping(raw)


def git_sync_template(run_as_user: int | None = 50000, run_as_group: int | None = 0) -> k8s.V1Pod:
    """Return a worker template like the official chart's: git-sync, a log sidecar, volumes."""
    base_security = (
        k8s.V1SecurityContext(run_as_user=run_as_user, run_as_group=run_as_group)
        if run_as_user is not None or run_as_group is not None
        else None
    )
    return k8s.V1Pod(
        api_version="v1",
        kind="Pod",
        metadata=k8s.V1ObjectMeta(name="placeholder", labels={"tier": "airflow"}),
        spec=k8s.V1PodSpec(
            service_account_name="airflow-worker",
            security_context=k8s.V1PodSecurityContext(run_as_user=50000, fs_group=0),
            init_containers=[
                k8s.V1Container(
                    name="git-sync-init",
                    image="registry.k8s.io/git-sync/git-sync:v4.2.1",
                    env=[k8s.V1EnvVar(name="GITSYNC_ONE_TIME", value="true")],
                    volume_mounts=[k8s.V1VolumeMount(name="dags", mount_path="/git")],
                ),
                k8s.V1Container(name="wait-for-db", image="busybox:1.36", command=["true"]),
            ],
            containers=[
                k8s.V1Container(
                    name="base",
                    image=WORKER_IMAGE,
                    security_context=base_security,
                    env=[
                        k8s.V1EnvVar(name="AIRFLOW__CORE__LOAD_EXAMPLES", value="False"),
                        k8s.V1EnvVar(
                            name="AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
                            value_from=k8s.V1EnvVarSource(
                                secret_key_ref=k8s.V1SecretKeySelector(name="airflow-db", key="connection")
                            ),
                        ),
                    ],
                    volume_mounts=[
                        k8s.V1VolumeMount(name="dags", mount_path="/opt/airflow/dags", read_only=True),
                        k8s.V1VolumeMount(name="logs", mount_path="/opt/airflow/logs"),
                    ],
                ),
                k8s.V1Container(
                    name="log-shipper",
                    image="fluent/fluent-bit:3.1",
                    volume_mounts=[k8s.V1VolumeMount(name="logs", mount_path="/logs", read_only=True)],
                ),
            ],
            volumes=[
                k8s.V1Volume(name="dags", empty_dir=k8s.V1EmptyDirVolumeSource()),
                k8s.V1Volume(name="logs", empty_dir=k8s.V1EmptyDirVolumeSource()),
            ],
        ),
    )


def worker_pod(
    template: k8s.V1Pod | None = None,
    override: k8s.V1Pod | None = None,
    task_id: str = "extract",
) -> k8s.V1Pod:
    """Return a worker pod built exactly as the KubernetesExecutor builds one."""
    return PodGenerator.construct_pod(
        dag_id="billing",
        task_id=task_id,
        pod_id=f"billing-{task_id}",
        try_number=1,
        kube_image=WORKER_IMAGE,
        date=None,
        args=["airflow", "tasks", "run", "billing", task_id, "manual__2026-12-01", "--local"],
        pod_override_object=override,
        base_worker_pod=template if template is not None else git_sync_template(),
        namespace="airflow",
        scheduler_job_id="7",
        run_id="manual__2026-12-01",
    )


def annotated_override(annotations: dict[str, str]) -> k8s.V1Pod:
    """Return an `executor_config` pod_override that only carries annotations."""
    return k8s.V1Pod(metadata=k8s.V1ObjectMeta(annotations=annotations))


def serialise(pod: k8s.V1Pod) -> dict[str, Any]:
    """Return the request body the executor sends for ``pod``."""
    body = _API_CLIENT.sanitize_for_serialization(pod)
    body.setdefault("apiVersion", "v1")
    body.setdefault("kind", "Pod")
    return body


def validate_pod(pod: k8s.V1Pod, kubernetes_version: str) -> None:
    """Raise `kubernetes_validate.ValidationError` unless ``pod`` matches the official schema."""
    kubernetes_validate.validate(serialise(pod), kubernetes_version, strict=True)


def pod_text(pod: k8s.V1Pod) -> str:
    """Return the serialised pod as one JSON string, for scanning."""
    return json.dumps(serialise(pod), sort_keys=True)


def init_container(pod: k8s.V1Pod, name: str = "vault-init") -> k8s.V1Container:
    matches = [c for c in pod.spec.init_containers or () if c.name == name]
    assert len(matches) == 1, f"expected one {name} init container, found {len(matches)}"
    return matches[0]


def container(pod: k8s.V1Pod, name: str) -> k8s.V1Container:
    return next(c for c in pod.spec.containers if c.name == name)


def env_of(c: k8s.V1Container) -> dict[str, Any]:
    return {var.name: var.value if var.value is not None else var.value_from for var in c.env or ()}
