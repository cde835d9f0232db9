"""The init program runs with exactly the env the injector gives `vault-init`, so they cannot drift."""

from __future__ import annotations

import json

import pytest
from kubernetes.client import models as k8s

from airflow_vault_provider import contract
from airflow_vault_provider.config import VaultInitConfig
from airflow_vault_provider.init import settings as init_settings
from airflow_vault_provider.init.errors import ExitCode
from airflow_vault_provider.injection import inject_vault_init
from tests.support.init_program import InitWorkspace
from tests.support.openbao import (
    JwtSigner,
    OpenBaoServer,
    TokenReviewDouble,
    clean_env,
    enable_approle,
    enable_engine,
    enable_kubernetes,
    new_wrapped_secret_id,
    read_policy_for,
    unique_name,
    write_policy,
)

# Every variable the program reads. The injector must set no other, besides Python's own.
PROGRAM_VARIABLES = {value for name, value in vars(contract).items() if name.startswith("ENV_")}
PYTHON_VARIABLES = {"PYTHONDONTWRITEBYTECODE"}


def _worker_pod() -> k8s.V1Pod:
    return k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(name="task-pod", namespace="airflow", labels={"kubernetes_executor": "True"}),
        spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="base", image="apache/airflow:3.3.2")]),
    )


def _vault_init_env(pod: k8s.V1Pod, secret_data: dict[tuple[str, str], str]) -> dict[str, str]:
    """Return the `vault-init` env of an injected pod, with Secret references resolved as the kubelet would."""
    container = next(c for c in pod.spec.init_containers if c.name == contract.INIT_CONTAINER_NAME)
    env = {}
    for var in container.env:
        if var.value_from is not None:
            reference = var.value_from.secret_key_ref
            env[var.name] = secret_data[(reference.name, reference.key)]
        else:
            env[var.name] = var.value
    return env


def _remap(env: dict[str, str], workspace: InitWorkspace, sa_token: str | None = None) -> dict[str, str]:
    """Point the pod's paths at the workspace, as the volumes would in a real pod."""
    remapped = dict(env)
    remapped[contract.ENV_OUTPUT_DIR] = str(workspace.output_dir)
    remapped[contract.ENV_TERMINATION_LOG] = str(workspace.termination_log)
    if contract.ENV_JWT_FILE in env:
        assert env[contract.ENV_JWT_FILE] == contract.SA_TOKEN_DIR + "/" + contract.SA_TOKEN_FILE_NAME
        assert sa_token is not None
        remapped[contract.ENV_JWT_FILE] = str(workspace.identity_file(contract.SA_TOKEN_FILE_NAME, sa_token))
    return clean_env(workspace.home) | remapped


def _assert_command_is_the_program(pod: k8s.V1Pod) -> None:
    container = next(c for c in pod.spec.init_containers if c.name == contract.INIT_CONTAINER_NAME)
    assert container.command == ["python", "-m", "airflow_vault_provider.init"]


@pytest.fixture
def kv_secret(openbao: OpenBaoServer) -> tuple[str, str]:
    """A KV v2 mount with one secret, and a policy that reads it."""
    root = openbao.client()
    mount = unique_name("kv")
    enable_engine(root, "kv", mount, {"version": "2"})
    root.secrets.kv.v2.create_or_update_secret("team/db", {"DB_USER": "airflow"}, mount_point=mount)
    write_policy(root, mount, read_policy_for({f"{mount}/data/team/*": "read"}))
    return mount, mount


def test_injected_approle_pod_runs(
    openbao: OpenBaoServer, workspace: InitWorkspace, kv_secret: tuple[str, str]
) -> None:
    mount, policy = kv_secret
    root = openbao.client()
    creds = enable_approle(root, mount=unique_name("approle"), policies=(policy,))
    config = VaultInitConfig.from_mapping(
        {
            "vault_addr": openbao.addr,
            "auth_method": "approle",
            "auth_path": creds.mount,
            "approle_role_id": creds.role_id,
            "approle_secret_id_secret": "airflow-approle/secret-id",
            "login_timeout_seconds": "30",
            "secrets": json.dumps(
                {
                    "db.env": {"path": f"{mount}/data/team/db", "format": "env"},
                    "user": {"path": f"{mount}/team/db", "format": "raw", "key": "DB_USER"},
                }
            ),
        }
    )
    pod = inject_vault_init(_worker_pod(), config)
    _assert_command_is_the_program(pod)
    wrapping_token = new_wrapped_secret_id(root, creds.mount, creds.role_name)
    env = _vault_init_env(pod, {("airflow-approle", "secret-id"): wrapping_token})

    assert set(env) - PYTHON_VARIABLES <= PROGRAM_VARIABLES
    run = workspace.run(_remap(env, workspace))

    assert run.returncode == ExitCode.OK, run.stderr
    assert run.file("user") == "airflow"
    assert run.file("db.env") == "DB_USER=airflow\n"
    assert root.auth.token.lookup(run.file(config.token_file))["data"]["policies"] == ["default", policy]


def test_injected_kubernetes_pod_runs(
    openbao: OpenBaoServer, tokenreview_double: TokenReviewDouble, workspace: InitWorkspace, kv_secret: tuple[str, str]
) -> None:
    mount, policy = kv_secret
    auth_mount = unique_name("k8s")
    enable_kubernetes(
        openbao.client(),
        tokenreview_double,
        mount=auth_mount,
        role_name="airflow-worker",
        namespace="airflow",
        service_account="worker",
        audience="vault",
        policies=(policy,),
    )
    config = VaultInitConfig.from_mapping(
        {
            "vault_addr": openbao.addr,
            "auth_method": "kubernetes",
            "auth_path": auth_mount,
            "role": "airflow-worker",
            "token_file": "vault-token",
            "secrets": json.dumps({"db.json": f"{mount}/data/team/db"}),
        }
    )
    pod = inject_vault_init(_worker_pod(), config)
    _assert_command_is_the_program(pod)
    sa_token = JwtSigner().service_account_token("airflow", "worker", config.token_audience)
    tokenreview_double.register(sa_token, "airflow", "worker", audiences=(config.token_audience,))
    env = _vault_init_env(pod, {})

    assert set(env) - PYTHON_VARIABLES <= PROGRAM_VARIABLES
    run = workspace.run(_remap(env, workspace, sa_token))

    assert run.returncode == ExitCode.OK, run.stderr
    assert json.loads(run.file("db.json")) == {"DB_USER": "airflow"}
    assert (workspace.output_dir / "vault-token").exists()


def test_injected_env_parses_to_config(workspace: InitWorkspace) -> None:
    config = VaultInitConfig.from_mapping(
        {
            "vault_addr": "https://vault.vault.svc:8200",
            "vault_namespace": "team-a",
            "ca_cert_secret": "vault-ca",
            "tls_server_name": "vault.internal",
            "auth_method": "jwt",
            "auth_path": "jwt/k8s",
            "role": "etl",
            "mount_path": "/vault/out",
            "token_file": "tok",
            "login_timeout_seconds": "45",
            "secrets": json.dumps({"a.json": "secret/data/a", "b": {"path": "kv/b", "format": "raw", "key": "k"}}),
        }
    )
    env = _vault_init_env(inject_vault_init(_worker_pod(), config), {})

    settings = init_settings.load_settings(env)

    assert settings.vault_addr == config.vault_addr
    assert settings.namespace == config.vault_namespace
    assert settings.ca_cert == contract.CA_DIR + "/" + contract.CA_FILE_NAME
    assert settings.tls_server_name == config.tls_server_name
    assert settings.auth_method == config.auth_method
    assert settings.auth_path == config.auth_path
    assert settings.role == config.role
    assert str(settings.output_dir) == config.mount_path
    assert str(settings.token_path) == config.token_path
    assert settings.timeout_seconds == config.login_timeout_seconds
    assert [(s.file_name, s.path, s.format, s.key) for s in settings.secrets] == [
        (s.name, s.path, s.format, s.key) for s in config.secrets
    ]
