"""Compare worker-pod throughput of the stock KubernetesExecutor path and VaultKubernetesExecutor's.

Both variants run the installed release's real `AirflowKubernetesScheduler` code on the same
jobs and the same pod template (shaped like the official chart's: git-sync, a log sidecar,
a secret-backed connection). The Vault variant is the same scheduler converted the way the
executor's `start()` converts it, so every log line and metric of the real path is included.
Log output goes to /dev/null while measuring. Batches of the two variants alternate.

Two figures:
- build: `_build_pod_request` (cncf-kubernetes releases that have it), the pod-building
  path shared by sequential and batched creation; this is the figure with the 0.98 target;
- create: `run_next` up to the API call, which adds serialising the pod (twice in the stock
  code: the request body and a JSON dump for the debug log) and a discarding client double.

    python bench/executor_throughput.py [--pods 2000] [--batch 50]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from airflow.models.taskinstancekey import TaskInstanceKey
from airflow.providers.cncf.kubernetes.exceptions import PodMutationHookException
from airflow.providers.cncf.kubernetes.executors.kubernetes_executor_types import KubernetesJob
from airflow.providers.cncf.kubernetes.executors.kubernetes_executor_utils import AirflowKubernetesScheduler
from airflow.providers.cncf.kubernetes.kube_config import KubeConfig
from kubernetes.client import ApiClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from airflow_vault_provider.config import VaultInitConfig
from airflow_vault_provider.executors.scheduler import HOOK_POINT, VaultKubernetesScheduler
from airflow_vault_provider.executors.worker_pod import WorkerPodPreparer
from tests.support.executor_run import EXECUTOR_PATH
from tests.support.pods import git_sync_template


class DiscardingKubeClientDouble:
    """Stands in for `CoreV1Api`: the real ApiClient serialises, the create call discards."""

    def __init__(self) -> None:
        self.api_client = ApiClient()
        self.created = 0

    def create_namespaced_pod(self, body: Any, namespace: str, **kwargs: Any) -> None:
        self.created += 1


class SchedulerWithoutWatchers(AirflowKubernetesScheduler):
    """The stock scheduler minus its pod watcher processes, which a benchmark does not need."""

    def _make_kube_watchers(self) -> dict[str, Any]:
        return {}


def make_scheduler(kube_config: KubeConfig) -> AirflowKubernetesScheduler:
    """Return a stock scheduler instance, built without starting pod watchers."""
    from multiprocessing import Manager

    scheduler = SchedulerWithoutWatchers(
        kube_config=kube_config,
        result_queue=Manager().Queue(),
        kube_client=DiscardingKubeClientDouble(),
        scheduler_job_id="42",
    )
    # From here on it runs the stock class's code only, as the executor's scheduler does.
    scheduler.__class__ = AirflowKubernetesScheduler
    return scheduler


def jobs(count: int, offset: int) -> list[Any]:
    result = []
    for number in range(offset, offset + count):
        task_id = f"task_{number}"
        key = TaskInstanceKey("bench", task_id, "manual__2026-01-01", 1, -1)
        command = ["airflow", "tasks", "run", "bench", task_id, "manual__2026-01-01", "--local"]
        result.append(KubernetesJob(key, command, None, None))
    return result


def timed_batch(step: Any, batch: list[Any]) -> float:
    started = time.perf_counter()
    for job in batch:
        step(job)
    return time.perf_counter() - started


def compare(steps: tuple[Any, Any], pods: int, batch_size: int) -> tuple[float, float]:
    """Return the median-batch throughput (pods/s) of the stock and the Vault step."""
    for step in steps:
        timed_batch(step, jobs(100, 0))

    times: tuple[list[float], list[float]] = ([], [])
    gc.disable()
    try:
        for round_number in range(pods // batch_size):
            batch = jobs(batch_size, round_number * batch_size)
            # Alternate which variant goes first, so neither always runs on a warmer cache.
            order = (0, 1) if round_number % 2 == 0 else (1, 0)
            for index in order:
                times[index].append(timed_batch(steps[index], batch))
    finally:
        gc.enable()
    return batch_size / statistics.median(times[0]), batch_size / statistics.median(times[1])


@contextlib.contextmanager
def output_discarded() -> Iterator[None]:
    """Point file descriptors 1 and 2 at /dev/null, so log lines are formatted but not shown."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for descriptor in (*saved, null):
            os.close(descriptor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=2000, help="worker pods built per variant and figure")
    parser.add_argument("--batch", type=int, default=50, help="pods per batch; variants alternate by batch")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work_dir:
        template = Path(work_dir) / "pod_template.yaml"
        template.write_text(yaml.safe_dump(ApiClient().sanitize_for_serialization(git_sync_template())))
        conf_overrides = {
            "pod_template_file": str(template),
            "worker_container_repository": "registry.example.com/airflow",
            "worker_container_tag": "3.3.2-vault",
            "namespace": "airflow",
        }
        for key, value in conf_overrides.items():
            os.environ[f"AIRFLOW__KUBERNETES_EXECUTOR__{key.upper()}"] = value
        kube_config = KubeConfig()

        stock = make_scheduler(kube_config)
        vault = make_scheduler(kube_config)
        settings = VaultInitConfig.from_mapping(
            {"vault_addr": "https://vault.vault.svc:8200", "role": "airflow-worker"}
        )
        preparer = WorkerPodPreparer(
            settings, executors=f"vault_k8s:{EXECUTOR_PATH}", failure=PodMutationHookException
        )
        VaultKubernetesScheduler.attach(vault, preparer)

        results = {}
        with output_discarded():
            if HOOK_POINT == "_build_pod_request":
                results["build"] = compare((stock._build_pod_request, vault._build_pod_request), args.pods, args.batch)
            results["create"] = compare((stock.run_next, vault.run_next), args.pods, args.batch)

    release = metadata.version("apache-airflow-providers-cncf-kubernetes")
    print(f"apache-airflow-providers-cncf-kubernetes {release}, injection at {HOOK_POINT}")
    print(f"{args.pods} pods per variant and figure, batches of {args.batch}, alternating; median batch")
    if "build" not in results:
        print("build: this release builds and sends pods in one step (run_next); see create")
    for name, (stock_rate, vault_rate) in results.items():
        print(
            f"{name:>6}: stock {stock_rate:7.1f} pods/s, vault {vault_rate:7.1f} pods/s, "
            f"ratio {vault_rate / stock_rate:.3f}" + ("  (target >= 0.98)" if name == "build" else "")
        )


if __name__ == "__main__":
    main()
