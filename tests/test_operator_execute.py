"""VaultKubernetesPodOperator.execute against a loopback Kubernetes API double.

The real operator and the real `kubernetes` client run unchanged; the double records each
pod body as the API server would receive it. Covered: a first try, a retry, reattaching
after a worker restart, and deferrable mode with its re-entry from the trigger.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_vault_provider.operators.vault_pod import VaultKubernetesPodOperator
from tests.support.kube_api_server import KubeApiServerDouble
from tests.support.operator_task import (
    NAMESPACE,
    TASK_IMAGE,
    WORKER_IMAGE,
    assert_one_vault_init,
    init_container,
    serialise,
    serve_kube_api,
    task_context,
    validate,
    vault_conf,
)

__all__ = ["vault_conf"]

try:
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:  # Airflow 2
    from airflow.exceptions import TaskDeferred  # type: ignore[no-redef]


@pytest.fixture
def kube_api(vault_conf: pytest.MonkeyPatch, tmp_path: Path):
    yield from serve_kube_api(vault_conf, tmp_path)


def make_operator(**kwargs) -> VaultKubernetesPodOperator:
    arguments = {
        "task_id": "fetch",
        "image": TASK_IMAGE,
        "namespace": NAMESPACE,
        "vault_role": "etl-reader",
        "vault_secrets": {"db.json": "secret/data/etl/db"},
        "poll_interval": 0.1,
        "startup_check_interval_seconds": 0.1,
        "base_container_status_polling_interval": 0.1,
        **kwargs,
    }
    return VaultKubernetesPodOperator(**arguments)


def check_created(api: KubeApiServerDouble) -> None:
    for body in api.created_pods:
        validate(body)
        assert_one_vault_init(body)
        assert init_container(body)["image"] == WORKER_IMAGE
    assert api.unhandled == []


def test_first_try_creates_one_pod(kube_api):
    context = task_context()

    make_operator().execute(context)

    assert len(kube_api.created_pods) == 1
    check_created(kube_api)
    created = kube_api.created_pods[0]["metadata"]["name"]
    assert context["ti"].pushed["pod_name"] == created
    assert kube_api.deleted == [created]


def test_retry_creates_new_pod(kube_api):
    make_operator().execute(task_context(try_number=1))
    make_operator().execute(task_context(try_number=2))

    assert len(kube_api.created_pods) == 2
    check_created(kube_api)
    first, second = (body["metadata"] for body in kube_api.created_pods)
    assert first["name"] != second["name"]
    assert (first["labels"]["try_number"], second["labels"]["try_number"]) == ("1", "2")


def test_reattach_reuses_running_pod(kube_api):
    # The first worker creates the pod and dies before following it.
    context = task_context()
    first_worker = make_operator()
    first_worker.get_or_create_pod(first_worker.build_pod_request_obj(context), context)

    restarted = make_operator()
    restarted.execute(context)

    assert len(kube_api.created_pods) == 1
    check_created(kube_api)
    assert restarted.pod is not None
    assert_one_vault_init(serialise(restarted.pod))
    assert_one_vault_init(serialise(restarted.pod_request_obj))


def test_deferrable_and_reentry(kube_api):
    context = task_context()

    with pytest.raises(TaskDeferred) as deferred:
        make_operator(deferrable=True).execute(context)

    assert deferred.value.method_name == "trigger_reentry"
    assert len(kube_api.created_pods) == 1
    pod_name = kube_api.created_pods[0]["metadata"]["name"]

    # Airflow resumes a deferred task on a fresh operator; the pod is not built again.
    event = {"status": "success", "name": pod_name, "namespace": NAMESPACE, "message": "done"}
    make_operator(deferrable=True).trigger_reentry(context, event)

    assert len(kube_api.created_pods) == 1
    check_created(kube_api)
    assert kube_api.deleted == [pod_name]


def test_deferrable_retry_creates_new_pod(kube_api):
    for try_number in (1, 2):
        with pytest.raises(TaskDeferred):
            make_operator(deferrable=True).execute(task_context(try_number))
        name = kube_api.created_pods[-1]["metadata"]["name"]
        event = {"status": "success", "name": name, "namespace": NAMESPACE, "message": "done"}
        make_operator(deferrable=True).trigger_reentry(task_context(try_number), event)

    assert len(kube_api.created_pods) == 2
    check_created(kube_api)
