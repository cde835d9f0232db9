"""The fallback pod_mutation_hook: in process, and installed through airflow_local_settings.py."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import models as k8s

from airflow_vault_provider import mutation
from airflow_vault_provider.config import VaultInitConfigError
from airflow_vault_provider.executors.worker_pod import WorkerPodPreparer
from airflow_vault_provider.injection import inject_vault_init
from tests.support.executor_run import EXECUTOR_PATH
from tests.support.pods import git_sync_template, serialise, settings, worker_pod

REPO_ROOT = Path(__file__).resolve().parent.parent
STOCK_EXECUTOR_PATH = "airflow.providers.cncf.kubernetes.executors.kubernetes_executor.KubernetesExecutor"


@pytest.fixture
def vault_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Valid `[vault_init]` in the environment, read afresh by the hook."""
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__VAULT_ADDR", "https://vault.vault.svc:8200")
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__ROLE", "airflow-worker")
    mutation.clear_settings_cache()
    yield
    mutation.clear_settings_cache()


def vault_init_count(pod: k8s.V1Pod) -> int:
    return sum(1 for c in pod.spec.init_containers or () if c.name == "vault-init")


def test_hook_injects_in_place(vault_env: None) -> None:
    pod = worker_pod()
    original_id = id(pod)

    assert mutation.pod_mutation_hook(pod) is None

    assert id(pod) == original_id
    assert pod.spec.init_containers[0].name == "vault-init"
    assert pod.metadata.annotations["vault.airflow/status"] == "injected"


def test_hook_twice_changes_nothing(vault_env: None) -> None:
    pod = worker_pod()
    mutation.pod_mutation_hook(pod)
    once = serialise(pod)

    mutation.pod_mutation_hook(pod)

    assert serialise(pod) == once
    assert vault_init_count(pod) == 1


def test_hook_after_executor_injection(vault_env: None) -> None:
    from airflow.providers.cncf.kubernetes.exceptions import PodMutationHookException

    preparer = WorkerPodPreparer(settings(), executors="", failure=PodMutationHookException)
    pod = preparer.prepare(worker_pod())
    before = serialise(pod)

    mutation.pod_mutation_hook(pod)

    assert serialise(pod) == before
    assert vault_init_count(pod) == 1


def test_hook_on_template_with_vault_init(vault_env: None) -> None:
    template = git_sync_template()
    stale = k8s.V1Container(name="vault-init", image="vendor/vault-agent:1.0", args=["agent"])
    template.spec.init_containers = [stale, *template.spec.init_containers]
    template.spec.volumes = [
        *(template.spec.volumes or []),
        k8s.V1Volume(name="vault-secrets", empty_dir=k8s.V1EmptyDirVolumeSource()),
    ]
    pod = worker_pod(template=template)

    mutation.pod_mutation_hook(pod)

    assert vault_init_count(pod) == 1
    assert [v.name for v in pod.spec.volumes].count("vault-secrets") == 1
    (ours,) = [c for c in pod.spec.init_containers if c.name == "vault-init"]
    assert ours.image != "vendor/vault-agent:1.0"


def test_hook_result_matches_core(vault_env: None) -> None:
    pod = worker_pod()
    expected = serialise(inject_vault_init(copy.deepcopy(pod), settings()))

    mutation.pod_mutation_hook(pod)

    assert serialise(pod) == expected


class Pod:
    """Looks like the pre-2.0 airflow.contrib Pod class that old hooks were written for."""

    def __init__(self) -> None:
        self.init_containers: list[Any] = []


def test_hook_rejects_contrib_pod(vault_env: None) -> None:
    with pytest.raises(TypeError) as raised:
        mutation.pod_mutation_hook(Pod())  # type: ignore[arg-type]

    message = str(raised.value)
    assert "expects a kubernetes.client.models.V1Pod" in message
    assert "got tests.test_mutation.Pod" in message
    assert "airflow.contrib" in message


def test_hook_rejects_dict(vault_env: None) -> None:
    with pytest.raises(TypeError, match=r"got builtins\.dict"):
        mutation.pod_mutation_hook({"spec": {}})  # type: ignore[arg-type]


def test_settings_read_once(vault_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    first = worker_pod(task_id="first")
    mutation.pod_mutation_hook(first)
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__ROLE", "changed-later")
    second = worker_pod(task_id="second")

    mutation.pod_mutation_hook(second)

    role_of = {v.name: v.value for v in second.spec.init_containers[0].env}["VAULT_INIT_ROLE"]
    assert role_of == "airflow-worker"


def test_invalid_setting_error_kept(vault_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__AUTH_METHOD", "ldap")
    mutation.clear_settings_cache()

    for _ in range(2):
        with pytest.raises(VaultInitConfigError) as raised:
            mutation.pod_mutation_hook(worker_pod())
        message = str(raised.value)
        assert "[vault_init] auth_method: 'ldap'" in message
        assert "Allowed values: kubernetes, jwt, approle." in message
        assert "restart it after fixing the setting" in message


def test_chained_hook_runs_user_hook_first(vault_env: None) -> None:
    calls: list[str] = []

    def team_hook(pod: k8s.V1Pod) -> None:
        calls.append("team")
        pod.metadata.annotations["vault.airflow/role"] = "team-role"

    hook = mutation.chain_pod_mutation_hooks(team_hook)
    pod = worker_pod()

    hook(pod)

    assert calls == ["team"]
    env = {v.name: v.value for v in pod.spec.init_containers[0].env}
    assert env["VAULT_INIT_ROLE"] == "team-role"


def test_chain_rejects_non_callable() -> None:
    with pytest.raises(TypeError, match="expects callables"):
        mutation.chain_pod_mutation_hooks("airflow_local_settings.my_hook")  # type: ignore[arg-type]


# The hook as Airflow installs it: a real airflow_local_settings.py in AIRFLOW_HOME/config.

LOCAL_SETTINGS = """\
from airflow_vault_provider.mutation import chain_pod_mutation_hooks


def label_team(pod):
    pod.metadata.labels = {**(pod.metadata.labels or {}), "team": "billing"}


pod_mutation_hook = chain_pod_mutation_hooks(label_team)
"""


def run_scenario(tmp_path: Path, scenario: str, **extra_env: str) -> dict[str, Any]:
    airflow_home = tmp_path / "airflow"
    (airflow_home / "config").mkdir(parents=True)
    (airflow_home / "config" / "airflow_local_settings.py").write_text(LOCAL_SETTINGS)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO_ROOT),
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__VAULT_INIT__VAULT_ADDR": "https://vault.vault.svc:8200",
        "AIRFLOW__VAULT_INIT__ROLE": "airflow-worker",
        **extra_env,
    }
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.hook_scenarios", scenario, str(tmp_path)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (line,) = [text for text in result.stdout.splitlines() if text.startswith("SCENARIO-RESULT ")]
    return json.loads(line.removeprefix("SCENARIO-RESULT "))


def init_names(body: dict[str, Any]) -> list[str]:
    return [c["name"] for c in body["spec"].get("initContainers", [])]


def test_local_settings_hook_on_stock_executor(tmp_path: Path) -> None:
    result = run_scenario(tmp_path, STOCK_EXECUTOR_PATH)

    (pod,) = result["pods"]
    assert init_names(pod) == ["vault-init", "git-sync-init", "wait-for-db"]
    assert pod["metadata"]["labels"]["team"] == "billing"


def test_local_settings_hook_with_vault_executor(tmp_path: Path) -> None:
    result = run_scenario(tmp_path, EXECUTOR_PATH)

    (pod,) = result["pods"]
    assert init_names(pod) == ["vault-init", "git-sync-init", "wait-for-db"]
    assert [v["name"] for v in pod["spec"]["volumes"]].count("vault-secrets") == 1


def test_local_settings_hook_on_stock_operator(tmp_path: Path) -> None:
    result = run_scenario(tmp_path, "operator", AIRFLOW__VAULT_INIT__IMAGE="registry.example.com/vault-init:0.1.0")

    first, second = result["pods"]
    assert init_names(first) == ["vault-init"]
    assert init_names(second) == ["vault-init"]
    assert first["spec"]["initContainers"][0]["image"] == "registry.example.com/vault-init:0.1.0"
    assert first["metadata"]["labels"]["team"] == "billing"
    assert first["metadata"]["annotations"]["vault.airflow/status"] == "injected"
