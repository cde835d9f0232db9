"""VaultKubernetesPodOperator.build_pod_request_obj on every way a pod is put together.

Each pod is serialised by the real `kubernetes` client and validated against the
Kubernetes 1.29 and newest schemas shipped by kubernetes-validate.
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest
from airflow.providers.cncf.kubernetes.operators import pod as kpo_module
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import models as k8s

from airflow_vault_provider import mutation
from airflow_vault_provider.config import VaultInitConfig, VaultInitConfigError
from airflow_vault_provider.injection import inject_vault_init, is_injected
from airflow_vault_provider.operators.vault_pod import VaultKubernetesPodOperator
from tests.support.operator_task import (
    NAMESPACE,
    TASK_IMAGE,
    VAULT_ADDR,
    WORKER_IMAGE,
    assert_one_vault_init,
    env_of,
    init_container,
    names,
    serialise,
    serve_kube_api,
    task_context,
    validate,
    vault_conf,
)

__all__ = ["vault_conf"]


@pytest.fixture(autouse=True)
def kube_api(vault_conf: pytest.MonkeyPatch, tmp_path: Path):
    """Point `kubernetes_default` at a loopback API double; building a pod reads the cluster type."""
    yield from serve_kube_api(vault_conf, tmp_path)


def make_operator(**kwargs) -> VaultKubernetesPodOperator:
    arguments = {
        "task_id": "fetch",
        "image": TASK_IMAGE,
        "namespace": NAMESPACE,
        "cmds": ["python", "-c", "print(open('/vault/secrets/db.json').read() != '')"],
        "vault_role": "etl-reader",
        **kwargs,
    }
    return VaultKubernetesPodOperator(**arguments)


def build(operator: KubernetesPodOperator, try_number: int = 1) -> dict:
    body = serialise(operator.build_pod_request_obj(task_context(try_number)))
    validate(body)
    return body


def test_first_try_pod(vault_conf):
    body = build(make_operator(vault_secrets={"db.json": "secret/data/etl/db"}))

    assert_one_vault_init(body)
    vault_init = init_container(body)
    assert vault_init["image"] == WORKER_IMAGE
    assert env_of(vault_init)["VAULT_INIT_ROLE"] == "etl-reader"
    assert env_of(vault_init)["VAULT_ADDR"] == VAULT_ADDR
    assert '"db.json":{"format":"json","path":"secret/data/etl/db"}' in env_of(vault_init)["VAULT_INIT_SECRETS"]
    assert body["spec"]["containers"][0]["image"] == TASK_IMAGE
    assert body["metadata"]["annotations"]["vault.airflow/role"] == "etl-reader"
    assert body["metadata"]["labels"]["try_number"] == "1"


def test_retry_builds_new_pod(vault_conf):
    first = build(make_operator(), try_number=1)
    second = build(make_operator(), try_number=2)

    assert first["metadata"]["name"] != second["metadata"]["name"]
    assert second["metadata"]["labels"]["try_number"] == "2"
    assert_one_vault_init(first)
    assert_one_vault_init(second)


def test_same_operator_built_twice(vault_conf):
    operator = make_operator(annotations={"team": "etl"})

    first = build(operator)
    second = build(operator)

    assert_one_vault_init(second)
    assert operator.annotations == {"team": "etl"}
    assert first["metadata"]["annotations"]["team"] == "etl"


def test_secret_spec_annotations(vault_conf):
    operator = make_operator(
        vault_secrets={
            "db.json": "secret/data/etl/db",
            "api.env": {"path": "secret/data/etl/api", "format": "env"},
            "token.txt": {"path": "secret/data/etl/api", "format": "raw", "key": "token"},
        }
    )
    body = build(operator)
    annotations = body["metadata"]["annotations"]

    assert annotations["vault.airflow/secret-db.json"] == "secret/data/etl/db"
    assert annotations["vault.airflow/secret-api.env-format"] == "env"
    assert annotations["vault.airflow/secret-token.txt-key"] == "token"
    secrets = env_of(init_container(body))["VAULT_INIT_SECRETS"]
    assert '"token.txt":{"format":"raw","key":"token","path":"secret/data/etl/api"}' in secrets


def test_vault_secrets_merge_with_config(vault_conf):
    vault_conf.setenv("AIRFLOW__VAULT_INIT__SECRETS", '{"shared.json": "secret/data/shared"}')

    body = build(make_operator(vault_secrets={"db.json": "secret/data/etl/db"}))

    secrets = env_of(init_container(body))["VAULT_INIT_SECRETS"]
    assert '"shared.json"' in secrets
    assert '"db.json"' in secrets


def test_vault_settings_override_config(vault_conf):
    operator = make_operator(
        vault_settings={"token_file": "vault-token", "login_timeout_seconds": 30, "init_first": False},
        init_containers=[k8s.V1Container(name="prepare", image="busybox:1.36")],
    )
    body = build(operator)

    task_env = env_of(body["spec"]["containers"][0])
    assert task_env["VAULT_TOKEN_FILE"] == "/vault/secrets/vault-token"
    assert env_of(init_container(body))["VAULT_INIT_TIMEOUT_SECONDS"] == "30"
    assert names(body["spec"]["initContainers"]) == ["prepare", "vault-init"]


def test_pod_template_file_with_vault_init(vault_conf, tmp_path):
    template = tmp_path / "pod.yaml"
    template.write_text(
        textwrap.dedent(
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: from-template
              annotations:
                owner: data-platform
            spec:
              serviceAccountName: template-sa
              initContainers:
                - name: vault-init
                  image: vendor/vault-agent:1.0
                - name: fetch-data
                  image: busybox:1.36
              containers:
                - name: base
                  image: placeholder
              volumes:
                - name: vault-secrets
                  emptyDir: {}
                - name: data
                  emptyDir: {}
            """
        )
    )
    body = build(make_operator(pod_template_file=str(template)))

    assert_one_vault_init(body)
    assert names(body["spec"]["initContainers"]) == ["vault-init", "fetch-data"]
    assert init_container(body)["image"] == WORKER_IMAGE
    assert names(body["spec"]["volumes"]).count("data") == 1
    assert body["spec"]["serviceAccountName"] == "template-sa"
    assert body["metadata"]["annotations"]["owner"] == "data-platform"


def test_pod_template_dict_with_vault_init(vault_conf):
    template = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "from-template"},
        "spec": {
            "initContainers": [
                {"name": "fetch-data", "image": "busybox:1.36"},
                {"name": "vault-init", "image": "vendor/vault-agent:1.0"},
            ],
            "containers": [{"name": "base", "image": "placeholder"}],
            "volumes": [{"name": "vault-secrets", "emptyDir": {}}],
        },
    }

    body = build(make_operator(pod_template_dict=template))

    assert_one_vault_init(body)
    assert names(body["spec"]["initContainers"]) == ["vault-init", "fetch-data"]
    assert init_container(body)["image"] == WORKER_IMAGE


def test_full_pod_spec_with_init_containers(vault_conf):
    full_pod_spec = k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(labels={"source": "full-pod-spec"}),
        spec=k8s.V1PodSpec(
            service_account_name="spec-sa",
            init_containers=[k8s.V1Container(name="migrate", image="busybox:1.36")],
            containers=[k8s.V1Container(name="base", image="placeholder")],
        ),
    )
    body = build(make_operator(full_pod_spec=full_pod_spec))

    assert_one_vault_init(body)
    assert names(body["spec"]["initContainers"]) == ["vault-init", "migrate"]
    assert body["spec"]["serviceAccountName"] == "spec-sa"
    assert body["metadata"]["labels"]["source"] == "full-pod-spec"


def test_precedence_matches_parent(vault_conf, tmp_path):
    template = tmp_path / "pod.yaml"
    template.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {}\nspec:\n  serviceAccountName: template-sa\n"
        "  priorityClassName: template-priority\n  initContainers:\n    - {name: warm-cache, image: busybox:1.36}\n"
        "  containers:\n    - {name: base, image: placeholder}\n"
    )
    full_pod_spec = k8s.V1Pod(
        spec=k8s.V1PodSpec(service_account_name="spec-sa", containers=[k8s.V1Container(name="base")])
    )
    shared = {
        "task_id": "fetch",
        "name": "fetch-pod",
        "random_name_suffix": False,
        "image": TASK_IMAGE,
        "namespace": NAMESPACE,
        "pod_template_file": str(template),
        "full_pod_spec": full_pod_spec,
    }
    ours = VaultKubernetesPodOperator(vault_role="etl-reader", **shared)
    parent = KubernetesPodOperator(
        annotations={"vault.airflow/inject": "true", "vault.airflow/role": "etl-reader"}, **shared
    )
    context = task_context()
    config = dataclasses.replace(VaultInitConfig.from_airflow_conf(), enabled=True)

    expected = serialise(inject_vault_init(parent.build_pod_request_obj(context), config))
    actual = serialise(ours.build_pod_request_obj(context))

    assert actual == expected
    assert actual["spec"]["serviceAccountName"] == "spec-sa"
    assert actual["spec"]["priorityClassName"] == "template-priority"


def test_xcom_sidecar_pod(vault_conf):
    body = build(make_operator(do_xcom_push=True))

    assert_one_vault_init(body)
    assert names(body["spec"]["containers"]) == ["base", "airflow-xcom-sidecar"]
    sidecar = body["spec"]["containers"][1]
    assert "vault-secrets" not in names(sidecar.get("volumeMounts"))
    assert names(body["spec"]["volumes"]).count("xcom") == 1


def test_custom_base_container_name(vault_conf):
    body = build(make_operator(base_container_name="main", do_xcom_push=True))

    assert_one_vault_init(body, base_container="main")


@pytest.fixture
def fallback_hook(monkeypatch):
    """Install airflow_vault_provider.mutation.pod_mutation_hook as airflow_local_settings would."""
    calls = []

    def recording_hook(pod: k8s.V1Pod) -> None:
        calls.append(is_injected(pod))
        mutation.pod_mutation_hook(pod)

    mutation.clear_settings_cache()
    monkeypatch.setattr(kpo_module, "pod_mutation_hook", recording_hook)
    yield calls
    mutation.clear_settings_cache()


def test_hook_installed_as_well(vault_conf, fallback_hook):
    body = build(make_operator(vault_secrets={"db.json": "secret/data/etl/db"}))

    assert fallback_hook == [False]
    assert_one_vault_init(body)
    assert env_of(init_container(body))["VAULT_INIT_ROLE"] == "etl-reader"
    assert "db.json" in env_of(init_container(body))["VAULT_INIT_SECRETS"]


def test_hook_with_xcom_and_template(vault_conf, fallback_hook, tmp_path):
    template = tmp_path / "pod.yaml"
    template.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {}\nspec:\n  initContainers:\n"
        "    - {name: vault-init, image: vendor/vault-agent:1.0}\n"
        "  containers:\n    - {name: base, image: placeholder}\n"
    )

    body = build(make_operator(pod_template_file=str(template), do_xcom_push=True))

    assert len(fallback_hook) == 1
    assert_one_vault_init(body)
    assert init_container(body)["image"] == WORKER_IMAGE


def test_hook_disabled_operator_injects(vault_conf, fallback_hook):
    vault_conf.setenv("AIRFLOW__VAULT_INIT__ENABLED", "False")

    body = build(make_operator())

    assert fallback_hook == [False]
    assert_one_vault_init(body)


def test_hook_respects_vault_inject_false(vault_conf, fallback_hook):
    body = build(make_operator(vault_inject=False))

    assert fallback_hook == [False]
    assert names(body["spec"].get("initContainers")) == []


def test_inject_twice_changes_nothing(vault_conf):
    operator = make_operator()
    pod = operator.build_pod_request_obj(task_context())
    config = VaultInitConfig.from_airflow_conf()

    again = inject_vault_init(pod, config)

    assert is_injected(pod)
    assert serialise(again) == serialise(pod)
    assert_one_vault_init(serialise(again))


def test_injects_when_config_disabled(vault_conf):
    vault_conf.setenv("AIRFLOW__VAULT_INIT__ENABLED", "False")
    vault_conf.setenv("AIRFLOW__VAULT_INIT__INJECT_BY_DEFAULT", "False")

    body = build(make_operator())

    assert_one_vault_init(body)


def test_vault_inject_false(vault_conf):
    vault_conf.delenv("AIRFLOW__VAULT_INIT__VAULT_ADDR")

    body = build(make_operator(vault_inject=False))

    assert names(body["spec"].get("initContainers")) == []
    assert "vault-secrets" not in names(body["spec"].get("volumes"))
    assert body["metadata"]["annotations"]["vault.airflow/inject"] == "false"


def test_vault_image_setting(vault_conf):
    vault_conf.setenv("AIRFLOW__VAULT_INIT__IMAGE", "registry.example.com/vault-init:1")

    body = build(make_operator())

    assert init_container(body)["image"] == "registry.example.com/vault-init:1"


def test_missing_image_fails_task(vault_conf):
    vault_conf.delenv("AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_REPOSITORY")
    vault_conf.delenv("AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_TAG")
    operator = make_operator()

    with pytest.raises(VaultInitConfigError, match=r"\[vault_init\] image") as raised:
        operator.build_pod_request_obj(task_context())

    assert "worker_container_repository" in str(raised.value)
    assert TASK_IMAGE not in str(raised.value)


def test_missing_role_fails_task(vault_conf):
    operator = make_operator(vault_role=None)

    with pytest.raises(VaultInitConfigError, match="needs a Vault role"):
        operator.build_pod_request_obj(task_context())


def test_dry_run_prints_injected_pod(vault_conf, capsys):
    make_operator(vault_secrets={"db.json": "secret/data/etl/db"}).dry_run()

    printed = capsys.readouterr().out
    assert printed.count("name: vault-init") == 1
    assert "vault.airflow/status: injected" in printed
    assert f"image: {WORKER_IMAGE}" in printed
