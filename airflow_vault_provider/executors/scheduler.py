"""`AirflowKubernetesScheduler` with Vault injection at the one point every worker pod passes.

cncf-kubernetes builds worker pods in different places across releases:
- 10.10 builds the pod in `run_next` and hands it to `run_pod_async`, which serialises and
  sends it;
- newer releases (10.25 among them) build it in `_build_pod_request`, which both the
  sequential `run_next` and the batched asynchronous `run_next_batch` call.
The subclass overrides `_build_pod_request` when the release has it, else `run_pod_async`,
and nothing else. A release with neither is rejected when the executor starts.

This module imports the stock scheduler module, which is expensive, so the executor imports
it only in `start()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from airflow.providers.cncf.kubernetes.executors.kubernetes_executor_utils import AirflowKubernetesScheduler

if TYPE_CHECKING:
    from kubernetes.client import models as k8s

    from airflow_vault_provider.executors.worker_pod import WorkerPodPreparer

# The methods this module can wrap, preferred first.
HOOK_POINTS = ("_build_pod_request", "run_pod_async")


def find_hook_point(scheduler_class: type) -> str | None:
    """Return the first of `HOOK_POINTS` that ``scheduler_class`` defines, or None."""
    return next((name for name in HOOK_POINTS if callable(getattr(scheduler_class, name, None))), None)


HOOK_POINT = find_hook_point(AirflowKubernetesScheduler)


class VaultKubernetesScheduler(AirflowKubernetesScheduler):
    """The stock scheduler, with each worker pod passed through a `WorkerPodPreparer`.

    The stock `KubernetesExecutor.start()` builds the scheduler itself, and its constructor
    starts the pod watcher processes, so `attach` converts that instance in place rather
    than building a second one.
    """

    vault_worker_pods: WorkerPodPreparer

    @classmethod
    def attach(cls, scheduler: AirflowKubernetesScheduler, worker_pods: WorkerPodPreparer) -> None:
        """Make ``scheduler`` an instance of this class that prepares pods with ``worker_pods``."""
        if type(scheduler) is not AirflowKubernetesScheduler:
            raise TypeError(
                f"VaultKubernetesExecutor expected the stock AirflowKubernetesScheduler, got "
                f"{type(scheduler).__module__}.{type(scheduler).__qualname__}; another executor "
                "subclass in the chain replaced it, so Vault injection cannot be installed."
            )
        scheduler.__class__ = cls
        cast(VaultKubernetesScheduler, scheduler).vault_worker_pods = worker_pods

    if HOOK_POINT == "_build_pod_request":

        def _build_pod_request(self, next_job: Any) -> k8s.V1Pod:
            pod = super()._build_pod_request(next_job)
            return self.vault_worker_pods.prepare(pod, task_key=next_job.key)

    elif HOOK_POINT == "run_pod_async":

        def run_pod_async(self, pod: k8s.V1Pod, **kwargs: Any) -> Any:
            return super().run_pod_async(self.vault_worker_pods.prepare(pod), **kwargs)
