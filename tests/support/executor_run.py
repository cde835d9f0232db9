"""Drive the real `VaultKubernetesExecutor` through start(), task submission and sync().

Airflow 3 submits `ExecuteTask` workloads through `queue_workload` and `heartbeat`; Airflow 2
calls `execute_async` with an `airflow tasks run` command. Both end in the executor's own
`sync()`, which builds and creates the pods against a `KubeApiServerDouble`.
"""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from airflow.providers.cncf.kubernetes.version_compat import AIRFLOW_V_3_0_PLUS

from airflow_vault_provider.executors.vault_kubernetes_executor import VaultKubernetesExecutor
from tests.support.kube_api_server import KubeApiServerDouble

if TYPE_CHECKING:
    # Only for annotations, so the demo, which imports this module, needs no pytest.
    import pytest

EXECUTOR_PATH = "airflow_vault_provider.executors.vault_kubernetes_executor.VaultKubernetesExecutor"
WORKER_REPOSITORY = "registry.example.com/airflow"
WORKER_TAG = "3.3.2-vault"
DAG_ID = "vault_demo"


@dataclasses.dataclass
class TaskSpec:
    """A task to submit: its id and `executor_config`."""

    task_id: str
    executor_config: dict[str, Any] = dataclasses.field(default_factory=dict)


def worker_template(init_containers: list[str], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """Return a worker pod template with ``init_containers`` (by name) before the base container."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "placeholder", "annotations": annotations or {}},
        "spec": {
            "initContainers": [
                {"name": name, "image": "busybox:1.36", "command": ["true"]} for name in init_containers
            ],
            "containers": [{"name": "base", "image": "placeholder"}],
            "securityContext": {"runAsUser": 50000, "runAsGroup": 0, "fsGroup": 0},
        },
    }


def write_template(path: Path, template: dict[str, Any]) -> str:
    path.write_text(yaml.safe_dump(template))
    return str(path)


def executor_settings(tmp_path: Path, kube_api: KubeApiServerDouble, **vault_init: str) -> dict[str, str]:
    """Return the environment that points `[kubernetes_executor]` at the double and sets `[vault_init]`."""
    template = write_template(tmp_path / "pod_template.yaml", worker_template(["git-sync-init", "wait-for-db"]))
    settings = {
        "AIRFLOW__CORE__EXECUTOR": f"LocalExecutor,vault_k8s:{EXECUTOR_PATH}",
        "AIRFLOW__KUBERNETES_EXECUTOR__IN_CLUSTER": "False",
        "AIRFLOW__KUBERNETES_EXECUTOR__CONFIG_FILE": str(kube_api.write_kubeconfig(tmp_path / "kubeconfig")),
        "AIRFLOW__KUBERNETES_EXECUTOR__NAMESPACE": "airflow",
        "AIRFLOW__KUBERNETES_EXECUTOR__POD_TEMPLATE_FILE": template,
        "AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_REPOSITORY": WORKER_REPOSITORY,
        "AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_TAG": WORKER_TAG,
        "AIRFLOW__KUBERNETES_EXECUTOR__DELETE_WORKER_PODS": "False",
        "AIRFLOW__KUBERNETES_EXECUTOR__WORKER_PODS_CREATION_BATCH_SIZE": "16",
        # The first sync() adopts completed pods through API discovery, which the double
        # does not serve; a long interval leaves that to later loops.
        "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "1000000000",
        "AIRFLOW__VAULT_INIT__VAULT_ADDR": "https://vault.vault.svc:8200",
        "AIRFLOW__VAULT_INIT__ROLE": "airflow-worker",
    }
    settings.update({f"AIRFLOW__VAULT_INIT__{key.upper()}": value for key, value in vault_init.items()})
    return settings


def configure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kube_api: KubeApiServerDouble, **vault_init: str
) -> None:
    """Set `executor_settings` in this process's environment for the test's duration."""
    for name, value in executor_settings(tmp_path, kube_api, **vault_init).items():
        monkeypatch.setenv(name, value)


def started_executor(executor_class: type[Any] = VaultKubernetesExecutor) -> Any:
    executor = executor_class()
    # These tests have no task instance rows. A non-numeric scheduler job id makes the newest
    # release skip its database check that the row is still queued by this scheduler.
    executor.job_id = "vault-test-scheduler"
    executor.start()
    return executor


def submit(executor: Any, tasks: list[TaskSpec], dag_id: str = DAG_ID) -> dict[str, Any]:
    """Submit ``tasks`` of ``dag_id`` the way this Airflow version's scheduler does; return their keys by task id."""
    keys: dict[str, Any] = {}
    run_id = "manual__2026-01-01T00:00:00+00:00"
    if AIRFLOW_V_3_0_PLUS:
        from airflow.executors import workloads
        from airflow.executors.workloads.task import TaskInstanceDTO

        for spec in tasks:
            ti = TaskInstanceDTO(
                id=uuid.uuid4(),
                task_id=spec.task_id,
                dag_id=dag_id,
                run_id=run_id,
                try_number=1,
                dag_version_id=uuid.uuid4(),
                map_index=-1,
                pool_slots=1,
                priority_weight=1,
                executor_config=spec.executor_config,
            )
            workload = workloads.ExecuteTask(
                ti=ti,
                dag_rel_path=Path(f"{dag_id}.py"),
                bundle_info=workloads.BundleInfo(name="dags-folder"),
                log_path=None,
                token="",
            )
            executor.queue_workload(workload, session=None)
            keys[spec.task_id] = executor.get_task_key(ti) if executor.supports_task_instance_uuid else ti.key
        executor.heartbeat()
        return keys

    from airflow.models.taskinstancekey import TaskInstanceKey

    for spec in tasks:
        key = TaskInstanceKey(dag_id, spec.task_id, run_id, 1, -1)
        command = ["airflow", "tasks", "run", dag_id, spec.task_id, run_id, "--local"]
        executor.execute_async(key=key, command=command, executor_config=spec.executor_config)
        executor.running.add(key)
        keys[spec.task_id] = key
    executor.sync()
    return keys
