"""The last step of building a worker pod: Vault injection, the executor list, metrics and logs.

`WorkerPodPreparer.prepare` runs on every pod the executor is about to serialise and send,
and on the pod that `airflow vault-init render` prints, so both show the same result.
"""

from __future__ import annotations

from collections.abc import Mapping

from airflow.providers.common.compat.sdk import Stats
from airflow.utils.log.logging_mixin import LoggingMixin
from kubernetes.client import models as k8s

from airflow_vault_provider.config import VaultInitConfig, VaultInitConfigError
from airflow_vault_provider.injection import inject_vault_init, is_injected
from airflow_vault_provider.injection.models import build, shallow_copy

EXECUTOR_ENV = "AIRFLOW__CORE__EXECUTOR"
_BASE_CONTAINER_NAME = "base"
# PodGenerator annotates every worker pod with these, in task-instance-key order; map_index
# only appears on mapped tasks.
_TASK_ANNOTATIONS = ("dag_id", "task_id", "run_id", "try_number", "map_index")


def with_executor_env(pod: k8s.V1Pod, executors: str) -> k8s.V1Pod:
    """Return ``pod`` with `AIRFLOW__CORE__EXECUTOR` set on the base container.

    A task that names its executor by alias is re-parsed in the worker, which must know the
    same `[core] executor` list. The pod is returned unchanged when the list is empty or the
    base container already sets the variable (from the pod template or a `pod_override`).
    """
    if not executors or pod.spec is None or not pod.spec.containers:
        return pod
    containers = list(pod.spec.containers)
    names = [container.name for container in containers]
    index = names.index(_BASE_CONTAINER_NAME) if _BASE_CONTAINER_NAME in names else 0
    base = containers[index]
    if any(var.name == EXECUTOR_ENV for var in base.env or ()):
        return pod

    copied = shallow_copy(base)
    copied.env = [*(base.env or ()), build(k8s.V1EnvVar, name=EXECUTOR_ENV, value=executors)]
    containers[index] = copied
    spec = shallow_copy(pod.spec)
    spec.containers = containers
    result = shallow_copy(pod)
    result.spec = spec
    return result


def task_key_of(pod: k8s.V1Pod) -> str:
    """Return the task instance key a worker pod runs, read from its PodGenerator annotations."""
    annotations: Mapping[str, str] = (pod.metadata.annotations if pod.metadata else None) or {}
    return ", ".join(f"{name}={annotations[name]}" for name in _TASK_ANNOTATIONS if name in annotations)


class WorkerPodPreparer(LoggingMixin):
    """Injects `vault-init` into worker pods with fixed settings, and reports each result.

    ``failure`` is the exception class raised for an invalid per-task setting. The executor
    passes cncf-kubernetes' `PodMutationHookException`, because its `sync()` already turns
    that into a failed task with the reason attached and keeps the other tasks running.
    """

    def __init__(
        self,
        config: VaultInitConfig,
        executors: str,
        failure: type[Exception],
        team_name: str | None = None,
    ) -> None:
        self.config = config
        self.executors = executors
        self.failure = failure
        self.team_name = team_name

    def prepare(self, pod: k8s.V1Pod, task_key: object = None) -> k8s.V1Pod:
        """Return ``pod`` with the executor list and, unless it opts out, `vault-init` added.

        Raises ``self.failure`` (caused by the `VaultInitConfigError`) when the pod's own
        `vault.airflow/*` annotations are invalid.
        """
        pod = with_executor_env(pod, self.executors)
        namespace = (pod.metadata.namespace if pod.metadata else None) or ""
        name = (pod.metadata.name if pod.metadata else None) or ""
        key = task_key if task_key is not None else task_key_of(pod)
        tags = self._tags(namespace)

        try:
            injected = inject_vault_init(pod, self.config)
        except VaultInitConfigError as error:
            Stats.incr("vault_init.injection_failed", tags=tags)
            self.log.error(
                "Vault init injection failed for pod %s in namespace %s, task %s: %s", name, namespace, key, error
            )
            raise self.failure(f"Vault init injection failed for task {key}: {error}") from error

        if not is_injected(injected):
            self.log.debug("Pod %s in namespace %s, task %s, opts out of Vault init", name, namespace, key)
            return injected

        Stats.incr("vault_init.pods_injected", tags=tags)
        settings = self.config.for_pod(injected.metadata.annotations)
        self.log.info(
            "Injected vault-init into pod %s in namespace %s for task %s (auth method %s, role %s)",
            name,
            namespace,
            key,
            settings.auth_method,
            settings.role or "-",
        )
        return injected

    def _tags(self, namespace: str) -> dict[str, str]:
        tags = {"namespace": namespace}
        if self.team_name:
            tags["team_name"] = self.team_name
        return tags
