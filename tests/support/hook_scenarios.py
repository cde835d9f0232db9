"""Scenarios run in a fresh interpreter whose AIRFLOW_HOME/config holds airflow_local_settings.py.

Airflow imports that file once, when `airflow` is first imported, so each scenario needs its
own process. `python -m tests.support.hook_scenarios <scenario> <work dir>` prints one JSON
object: the created or built pod bodies.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any


def stock_executor(work_dir: Path, executor_path: str) -> dict[str, Any]:
    """Run the executor at ``executor_path`` once against a Kubernetes API double."""
    from tests.support.executor_run import TaskSpec, executor_settings, started_executor, submit
    from tests.support.kube_api_server import KubeApiServerDouble

    kube_api = KubeApiServerDouble().start()
    os.environ.update(executor_settings(work_dir, kube_api))
    module_name, _, class_name = executor_path.rpartition(".")
    executor = started_executor(getattr(importlib.import_module(module_name), class_name))
    try:
        submit(executor, [TaskSpec("plain")])
    finally:
        executor.end()
        kube_api.stop()
    return {"pods": kube_api.created_pods}


def stock_operator(work_dir: Path) -> dict[str, Any]:
    """Build a stock KubernetesPodOperator pod twice, then run Airflow's hook on it again."""
    from airflow import settings
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from kubernetes.client import ApiClient

    from tests.support.kube_api_server import KubeApiServerDouble

    # build_pod_request_obj loads a client configuration to label the pod; it sends nothing.
    kube_api = KubeApiServerDouble().start()
    operator = KubernetesPodOperator(
        task_id="kpo",
        image="python:3.12-slim",
        cmds=["python", "-c", "print(1)"],
        namespace="jobs",
        in_cluster=False,
        config_file=str(kube_api.write_kubeconfig(work_dir / "kubeconfig")),
    )
    try:
        first = operator.build_pod_request_obj()
        second = operator.build_pod_request_obj()
        settings.pod_mutation_hook(second)
    finally:
        kube_api.stop()
    client = ApiClient()
    return {"pods": [client.sanitize_for_serialization(first), client.sanitize_for_serialization(second)]}


def main() -> None:
    scenario, work_dir = sys.argv[1], Path(sys.argv[2])
    if scenario == "operator":
        result = stock_operator(work_dir)
    else:
        result = stock_executor(work_dir, scenario)
    print("SCENARIO-RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
