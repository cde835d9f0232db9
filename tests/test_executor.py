"""VaultKubernetesExecutor end to end: start(), task submission and sync() against an API double.

On cncf-kubernetes 10.25 (newest pair) pods are built in `_build_pod_request`, on both the
sequential and the batched asynchronous path. On 10.10 (oldest pair) they are built in
`run_next`, then sent by `run_pod_async`. Each test runs the creation path of the installed release.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow.utils.state import TaskInstanceState
from kubernetes.client import models as k8s

from airflow_vault_provider.executors import scheduler as vault_scheduler
from airflow_vault_provider.executors import worker_pod
from airflow_vault_provider.executors.vault_kubernetes_executor import VaultKubernetesExecutor
from tests.support.executor_run import (
    EXECUTOR_PATH,
    WORKER_REPOSITORY,
    WORKER_TAG,
    TaskSpec,
    configure,
    started_executor,
    submit,
    worker_template,
    write_template,
)
from tests.support.kube_api_server import KubeApiServerDouble

HAS_BATCHED_CREATION = hasattr(vault_scheduler.AirflowKubernetesScheduler, "run_next_batch")


@pytest.fixture
def kube_api() -> Iterator[KubeApiServerDouble]:
    with KubeApiServerDouble() as double:
        yield double


@pytest.fixture
def run_executor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kube_api: KubeApiServerDouble) -> Any:
    """Return a function that starts the executor, submits tasks, syncs once and ends it."""
    configure(monkeypatch, tmp_path, kube_api)
    started: list[VaultKubernetesExecutor] = []

    def run(tasks: list[TaskSpec]) -> tuple[VaultKubernetesExecutor, dict[str, Any]]:
        executor = started_executor()
        started.append(executor)
        return executor, submit(executor, tasks)

    yield run
    for executor in started:
        executor.end()


def init_names(pod: dict[str, Any]) -> list[str]:
    return [container["name"] for container in pod["spec"].get("initContainers", [])]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {var["name"]: var.get("value", var.get("valueFrom")) for var in container.get("env", [])}


def vault_init(pod: dict[str, Any]) -> dict[str, Any]:
    (container,) = [c for c in pod["spec"]["initContainers"] if c["name"] == "vault-init"]
    return container


def base(pod: dict[str, Any]) -> dict[str, Any]:
    (container,) = [c for c in pod["spec"]["containers"] if c["name"] == "base"]
    return container


def mixed_tasks(tmp_path: Path) -> list[TaskSpec]:
    """A plain task, a pod_override, a per-task template, an opt-out and an invalid annotation."""
    own_template = write_template(
        tmp_path / "team_template.yaml",
        worker_template(["fetch-dags"], annotations={"vault.airflow/role": "team-template-role"}),
    )
    override = k8s.V1Pod(metadata=k8s.V1ObjectMeta(annotations={"vault.airflow/role": "override-role"}))
    opt_out = k8s.V1Pod(metadata=k8s.V1ObjectMeta(annotations={"vault.airflow/inject": "false"}))
    invalid = k8s.V1Pod(metadata=k8s.V1ObjectMeta(annotations={"vault.airflow/auth-method": "ldap"}))
    return [
        TaskSpec("plain"),
        TaskSpec("overridden", {"pod_override": override}),
        TaskSpec("own_template", {"pod_template_file": own_template}),
        TaskSpec("opted_out", {"pod_override": opt_out}),
        TaskSpec("invalid", {"pod_override": invalid}),
        TaskSpec("after_invalid"),
    ]


def check_mixed_run(
    kube_api: KubeApiServerDouble, executor: VaultKubernetesExecutor, keys: dict[str, Any]
) -> None:
    pods = kube_api.pods_by_task()
    assert sorted(pods) == ["after_invalid", "opted_out", "overridden", "own_template", "plain"]

    for task_id in ("plain", "overridden", "after_invalid"):
        assert init_names(pods[task_id]) == ["vault-init", "git-sync-init", "wait-for-db"], task_id
    assert init_names(pods["own_template"]) == ["vault-init", "fetch-dags"]
    assert init_names(pods["opted_out"]) == ["git-sync-init", "wait-for-db"]

    assert env_of(vault_init(pods["plain"]))["VAULT_INIT_ROLE"] == "airflow-worker"
    assert env_of(vault_init(pods["overridden"]))["VAULT_INIT_ROLE"] == "override-role"
    assert env_of(vault_init(pods["own_template"]))["VAULT_INIT_ROLE"] == "team-template-role"
    assert vault_init(pods["plain"])["image"] == f"{WORKER_REPOSITORY}:{WORKER_TAG}"
    assert env_of(base(pods["plain"]))["VAULT_TOKEN_FILE"] == "/vault/secrets/token"

    state, info = executor.event_buffer[keys["invalid"]]
    assert state == TaskInstanceState.FAILED
    assert "vault.airflow/auth-method" in str(info.__cause__)
    assert "ldap" in str(info)
    for task_id in ("plain", "after_invalid"):
        assert executor.event_buffer[keys[task_id]][0] == TaskInstanceState.QUEUED


def test_sequential_creation_injects_each_pod(
    run_executor: Any, kube_api: KubeApiServerDouble, tmp_path: Path
) -> None:
    executor, keys = run_executor(mixed_tasks(tmp_path))

    check_mixed_run(kube_api, executor, keys)


@pytest.mark.skipif(not HAS_BATCHED_CREATION, reason="this cncf-kubernetes release has no batched creation")
def test_batched_async_creation_injects_each_pod(
    run_executor: Any, kube_api: KubeApiServerDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__KUBERNETES_EXECUTOR__ASYNC_POD_CREATION", "True")

    executor, keys = run_executor(mixed_tasks(tmp_path))

    assert executor.kube_config.async_pod_creation is True
    check_mixed_run(kube_api, executor, keys)


def test_hook_point_matches_installed_release() -> None:
    stock = vault_scheduler.AirflowKubernetesScheduler
    expected = "_build_pod_request" if hasattr(stock, "_build_pod_request") else "run_pod_async"

    assert vault_scheduler.HOOK_POINT == expected
    assert expected in vars(vault_scheduler.VaultKubernetesScheduler)


def test_hook_point_missing_on_unknown_class() -> None:
    class SchedulerWithoutHooks:
        def run_next(self, job: object) -> None:
            pass

    assert vault_scheduler.find_hook_point(SchedulerWithoutHooks) is None


def test_unsupported_release_stops_start(
    run_executor: Any, monkeypatch: pytest.MonkeyPatch, kube_api: KubeApiServerDouble
) -> None:
    monkeypatch.setattr(vault_scheduler, "HOOK_POINT", None)

    with pytest.raises(SystemExit) as stopped:
        run_executor([TaskSpec("plain")])

    message = str(stopped.value)
    assert "is not supported" in message
    assert "_build_pod_request, run_pod_async" in message
    assert kube_api.created_pods == []


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("AIRFLOW__VAULT_INIT__AUTH_METHOD", "ldap", "Allowed values: kubernetes, jwt, approle"),
        ("AIRFLOW__VAULT_INIT__ROLE", "", "needs a Vault role"),
        ("AIRFLOW__VAULT_INIT__VAULT_ADDR", "vault:8200", "Use an http:// or https:// URL"),
    ],
)
def test_invalid_setting_stops_start(
    run_executor: Any, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SystemExit) as stopped:
        run_executor([TaskSpec("plain")])

    message = str(stopped.value)
    assert message.startswith("VaultKubernetesExecutor cannot start: Invalid Vault init setting [vault_init]")
    assert expected in message
    assert "Traceback" not in message


def test_role_not_required_when_injection_is_opt_in(
    run_executor: Any, monkeypatch: pytest.MonkeyPatch, kube_api: KubeApiServerDouble
) -> None:
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__ROLE", "")
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__INJECT_BY_DEFAULT", "False")
    opted_in = k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(annotations={"vault.airflow/inject": "true", "vault.airflow/role": "team-a"})
    )

    run_executor([TaskSpec("plain"), TaskSpec("opted_in", {"pod_override": opted_in})])

    pods = kube_api.pods_by_task()
    assert init_names(pods["plain"]) == ["git-sync-init", "wait-for-db"]
    assert init_names(pods["opted_in"])[0] == "vault-init"
    assert env_of(vault_init(pods["opted_in"]))["VAULT_INIT_ROLE"] == "team-a"


def test_disabled_injection_leaves_pods(
    run_executor: Any, monkeypatch: pytest.MonkeyPatch, kube_api: KubeApiServerDouble
) -> None:
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__ENABLED", "False")
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__ROLE", "")

    run_executor([TaskSpec("plain")])

    pod = kube_api.pods_by_task()["plain"]
    assert init_names(pod) == ["git-sync-init", "wait-for-db"]
    assert "vault.airflow/status" not in pod["metadata"]["annotations"]
    assert "AIRFLOW__CORE__EXECUTOR" in env_of(base(pod))


def test_worker_gets_executor_list(run_executor: Any, kube_api: KubeApiServerDouble) -> None:
    run_executor([TaskSpec("plain")])

    env = env_of(base(kube_api.pods_by_task()["plain"]))
    assert env["AIRFLOW__CORE__EXECUTOR"] == f"LocalExecutor,vault_k8s:{EXECUTOR_PATH}"


def test_template_executor_list_kept(
    run_executor: Any, kube_api: KubeApiServerDouble, tmp_path: Path
) -> None:
    template = worker_template(["git-sync-init"])
    template["spec"]["containers"][0]["env"] = [{"name": "AIRFLOW__CORE__EXECUTOR", "value": "LocalExecutor"}]
    own_template = write_template(tmp_path / "with_executor.yaml", template)

    run_executor([TaskSpec("plain", {"pod_template_file": own_template})])

    base_env = base(kube_api.pods_by_task()["plain"])["env"]
    assert [var["value"] for var in base_env if var["name"] == "AIRFLOW__CORE__EXECUTOR"] == ["LocalExecutor"]


def test_injection_logged_and_counted(
    run_executor: Any, kube_api: KubeApiServerDouble, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    stats = RecordingStatsDouble()
    monkeypatch.setattr(worker_pod, "Stats", stats)
    caplog.set_level(logging.INFO, logger=worker_pod.__name__)
    invalid = k8s.V1Pod(metadata=k8s.V1ObjectMeta(annotations={"vault.airflow/auth-method": "ldap"}))

    run_executor([TaskSpec("plain"), TaskSpec("invalid", {"pod_override": invalid})])

    assert stats.counts == [
        ("vault_init.pods_injected", {"namespace": "airflow"}),
        ("vault_init.injection_failed", {"namespace": "airflow"}),
    ]
    (pod,) = kube_api.created_pods
    # Airflow 2 routes the executor's log through the standard library, so caplog captures
    # it. Airflow 3 renders it with structlog straight to the process output.
    logged = [record.getMessage() for record in caplog.records if record.levelno == logging.INFO]
    printed = capfd.readouterr().out.splitlines()
    (line,) = [text for text in logged if "Injected vault-init" in text] or [
        text for text in printed if "Injected vault-init" in text
    ]
    assert pod["metadata"]["name"] in line
    assert "namespace airflow" in line
    assert "task_id='plain'" in line or "task_id=plain" in line
    assert "auth method kubernetes, role airflow-worker" in line


class RecordingStatsDouble:
    """Stands in for Airflow's `Stats` and records each counter increment with its tags."""

    def __init__(self) -> None:
        self.counts: list[tuple[str, dict[str, str]]] = []

    def incr(self, name: str, count: int = 1, rate: float = 1, *, tags: dict[str, str] | None = None) -> None:
        self.counts.append((name, dict(tags or {})))


def test_cli_commands_include_parents_and_ours() -> None:
    names = [command.name for command in VaultKubernetesExecutor.get_cli_commands()]

    assert names == ["kubernetes", "vault-init"]


@pytest.mark.parametrize(
    "executors",
    [
        EXECUTOR_PATH,
        f"vault_k8s:{EXECUTOR_PATH}",
        f"LocalExecutor,vault_k8s:{EXECUTOR_PATH}",
    ],
)
def test_executor_loads_from_core_executor(executors: str, tmp_path: Path) -> None:
    script = (
        "from airflow.executors.executor_loader import ExecutorLoader\n"
        "names = ExecutorLoader.get_executor_names()\n"
        "ours = [name for name in names if name.module_path.endswith('VaultKubernetesExecutor')]\n"
        "cls, _ = ExecutorLoader.import_executor_cls(ours[0])\n"
        "print(cls.__module__ + '.' + cls.__qualname__, ours[0].alias)\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__EXECUTOR": executors,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # Airflow 2 refuses multi-process executors on SQLite unless this test switch is set.
        "_AIRFLOW__SKIP_DATABASE_EXECUTOR_COMPATIBILITY_CHECK": "1",
    }
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr[-2000:]
    loaded, alias = result.stdout.split()[-2:]
    assert loaded == EXECUTOR_PATH
    assert alias == ("vault_k8s" if "vault_k8s:" in executors else "None")


def test_executor_env_added_to_base() -> None:
    pod = worker_pod_model(env=[k8s.V1EnvVar(name="A", value="1")])

    result = worker_pod.with_executor_env(pod, "LocalExecutor,vault_k8s:x.Y")

    (base_container,) = [c for c in result.spec.containers if c.name == "base"]
    assert [(v.name, v.value) for v in base_container.env] == [
        ("A", "1"),
        ("AIRFLOW__CORE__EXECUTOR", "LocalExecutor,vault_k8s:x.Y"),
    ]
    assert [v.name for v in pod.spec.containers[1].env] == ["A"]
    assert result.spec.containers[0] is pod.spec.containers[0]


def test_executor_env_existing_value_kept() -> None:
    pod = worker_pod_model(env=[k8s.V1EnvVar(name="AIRFLOW__CORE__EXECUTOR", value="LocalExecutor")])

    assert worker_pod.with_executor_env(pod, "vault_k8s:x.Y") is pod


def test_executor_env_empty_list_skipped() -> None:
    pod = worker_pod_model(env=None)

    assert worker_pod.with_executor_env(pod, "") is pod


def worker_pod_model(env: list[k8s.V1EnvVar] | None) -> k8s.V1Pod:
    """A pod whose task container `base` comes second, after a sidecar."""
    return k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(name="p", namespace="airflow"),
        spec=k8s.V1PodSpec(
            containers=[
                k8s.V1Container(name="log-shipper", image="fluent/fluent-bit:3.1"),
                k8s.V1Container(name="base", image="registry.example.com/airflow:3", env=env),
            ]
        ),
    )
