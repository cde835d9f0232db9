"""The init program logs in with each auth method against a real OpenBao server."""

from __future__ import annotations

import json
import stat

import hvac
import pytest

from airflow_vault_provider import contract
from airflow_vault_provider.init.errors import ExitCode
from tests.support.init_program import InitRun, InitWorkspace
from tests.support.openbao import (
    JwtSigner,
    OpenBaoServer,
    TokenReviewDouble,
    enable_approle,
    enable_jwt,
    enable_kubernetes,
    new_wrapped_secret_id,
    running_openbao,
    unique_name,
    wrapping_lookup,
)


def _assert_token_works(openbao_client: hvac.Client, run: InitRun, expected_policy: str) -> dict:
    assert run.returncode == ExitCode.OK, run.stderr
    token = run.file("token")
    assert token
    assert not token.endswith("\n")
    looked_up = openbao_client.auth.token.lookup(token)["data"]
    assert expected_policy in looked_up["policies"]

    info = json.loads(run.file(contract.TOKEN_INFO_FILE_NAME))
    assert info["accessor"] == looked_up["accessor"]
    assert token not in run.file(contract.TOKEN_INFO_FILE_NAME)
    assert run.termination_message == ""
    return info


def _policy(openbao: OpenBaoServer) -> str:
    name = unique_name("policy")
    openbao.client().sys.create_or_update_policy(
        name=name, policy='path "secret/data/none" { capabilities = ["read"] }'
    )
    return name


def test_kubernetes_login(
    openbao: OpenBaoServer, tokenreview_double: TokenReviewDouble, workspace: InitWorkspace
) -> None:
    mount, policy = unique_name("k8s"), _policy(openbao)
    enable_kubernetes(
        openbao.client(),
        tokenreview_double,
        mount=mount,
        role_name="airflow-worker",
        namespace="airflow",
        service_account="worker",
        policies=(policy,),
    )
    jwt = JwtSigner().service_account_token("airflow", "worker", "vault")
    tokenreview_double.register(jwt, "airflow", "worker")
    env = workspace.jwt_env(openbao.addr, "kubernetes", mount, "airflow-worker", jwt)

    run = workspace.run(env)

    info = _assert_token_works(openbao.client(), run, policy)
    assert info["auth_method"] == "kubernetes"
    assert info["auth_path"] == mount
    assert len(tokenreview_double.reviews) == 1


def test_jwt_login(openbao: OpenBaoServer, workspace: InitWorkspace) -> None:
    mount, policy, signer = unique_name("jwt"), _policy(openbao), JwtSigner()
    enable_jwt(openbao.client(), signer, mount=mount, role_name="task", audience="vault", policies=(policy,))
    jwt = signer.service_account_token("airflow", "worker", "vault")
    env = workspace.jwt_env(openbao.addr, "jwt", mount, "task", jwt)

    run = workspace.run(env)

    info = _assert_token_works(openbao.client(), run, policy)
    assert info["auth_method"] == "jwt"


def test_jwt_login_rejects_wrong_audience(openbao: OpenBaoServer, workspace: InitWorkspace) -> None:
    mount, signer = unique_name("jwt"), JwtSigner()
    enable_jwt(openbao.client(), signer, mount=mount, role_name="task", audience="vault")
    jwt = signer.service_account_token("airflow", "worker", "other-audience")
    env = workspace.jwt_env(openbao.addr, "jwt", mount, "task", jwt)

    run = workspace.run(env)

    assert run.returncode == ExitCode.LOGIN_DENIED
    assert f"auth/{mount}" in run.termination_message
    assert "role task" in run.termination_message


@pytest.mark.parametrize("source", ["env", "file"])
def test_approle_plain_secret_id(openbao: OpenBaoServer, workspace: InitWorkspace, source: str) -> None:
    policy = _policy(openbao)
    creds = enable_approle(openbao.client(), mount=unique_name("approle"), policies=(policy,))
    settings = {
        contract.ENV_AUTH_METHOD: "approle",
        contract.ENV_AUTH_PATH: creds.mount,
        contract.ENV_APPROLE_ROLE_ID: creds.role_id,
    }
    if source == "env":
        settings[contract.ENV_APPROLE_SECRET_ID] = creds.secret_id
    else:
        settings[contract.ENV_APPROLE_SECRET_ID_FILE] = str(
            workspace.identity_file("secret-id", creds.secret_id + "\n")
        )

    run = workspace.run(workspace.env(openbao.addr, settings))

    info = _assert_token_works(openbao.client(), run, policy)
    assert info["auth_method"] == "approle"
    assert "unwrapping" not in run.stderr


@pytest.mark.parametrize("source", ["env", "file"])
def test_approle_wrapped_secret_id(openbao: OpenBaoServer, workspace: InitWorkspace, source: str) -> None:
    policy = _policy(openbao)
    root = openbao.client()
    creds = enable_approle(root, mount=unique_name("approle"), policies=(policy,))
    wrapping_token = new_wrapped_secret_id(root, creds.mount, creds.role_name)
    settings = {
        contract.ENV_AUTH_METHOD: "approle",
        contract.ENV_AUTH_PATH: creds.mount,
        contract.ENV_APPROLE_ROLE_ID: creds.role_id,
    }
    if source == "env":
        settings[contract.ENV_APPROLE_SECRET_ID] = wrapping_token
    else:
        settings[contract.ENV_APPROLE_SECRET_ID_FILE] = str(workspace.identity_file("secret-id", wrapping_token))

    run = workspace.run(workspace.env(openbao.addr, settings))

    _assert_token_works(root, run, policy)
    assert "response-wrapping token: unwrapping it" in run.stderr
    with pytest.raises(hvac.exceptions.InvalidRequest):
        wrapping_lookup(root, wrapping_token)


def test_approle_wrapped_switch_forces_plain(openbao: OpenBaoServer, workspace: InitWorkspace) -> None:
    root = openbao.client()
    creds = enable_approle(root, mount=unique_name("approle"))
    wrapping_token = new_wrapped_secret_id(root, creds.mount, creds.role_name)
    env = workspace.approle_env(openbao.addr, creds.mount, creds.role_id, wrapping_token) | {
        contract.ENV_APPROLE_SECRET_ID_WRAPPED: "false"
    }

    run = workspace.run(env)

    assert run.returncode == ExitCode.LOGIN_DENIED
    # Sent as a plain secret id, the wrapping token stays unused.
    assert wrapping_lookup(root, wrapping_token)["data"]["creation_path"].endswith("/secret-id")


def test_login_in_namespace(openbao: OpenBaoServer, workspace: InitWorkspace) -> None:
    namespace = unique_name("team")
    openbao.client().sys.create_namespace(path=namespace)
    inner = openbao.client(namespace=namespace)
    creds = enable_approle(inner, mount="approle")
    env = workspace.env(
        openbao.addr,
        {
            contract.ENV_VAULT_NAMESPACE: namespace,
            contract.ENV_AUTH_METHOD: "approle",
            contract.ENV_APPROLE_ROLE_ID: creds.role_id,
            contract.ENV_APPROLE_SECRET_ID: creds.secret_id,
        },
    )

    run = workspace.run(env)

    assert run.returncode == ExitCode.OK, run.stderr
    assert inner.auth.token.lookup(run.file("token"))["data"]["namespace_path"] == namespace + "/"


def test_login_over_tls_with_server_name(workspace: InitWorkspace) -> None:
    with running_openbao(tls=True) as server:
        creds = enable_approle(server.client(), mount="approle")
        settings = {
            contract.ENV_VAULT_CACERT: str(server.ca_cert),
            contract.ENV_AUTH_METHOD: "approle",
            contract.ENV_APPROLE_ROLE_ID: creds.role_id,
            contract.ENV_APPROLE_SECRET_ID: creds.secret_id,
        }

        # The certificate names localhost and 127.0.0.1, so "localhost" verifies and another name fails.
        good = workspace.run(workspace.env(server.addr, settings | {contract.ENV_TLS_SERVER_NAME: "localhost"}))
        wrong_name = workspace.run(
            workspace.env(server.addr, settings | {contract.ENV_TLS_SERVER_NAME: "vault.other.test"})
        )
        no_ca = workspace.run(
            workspace.env(server.addr, {k: v for k, v in settings.items() if k != contract.ENV_VAULT_CACERT})
        )

    assert good.returncode == ExitCode.OK, good.stderr
    assert wrong_name.returncode == ExitCode.VAULT_UNAVAILABLE
    assert contract.ENV_TLS_SERVER_NAME in wrong_name.termination_message
    assert wrong_name.elapsed < 20
    assert no_ca.returncode == ExitCode.VAULT_UNAVAILABLE
    assert "TLS verification" in no_ca.termination_message


def test_token_file_mode(openbao: OpenBaoServer, workspace: InitWorkspace) -> None:
    creds = enable_approle(openbao.client(), mount=unique_name("approle"))
    env = workspace.approle_env(openbao.addr, creds.mount, creds.role_id, creds.secret_id) | {
        contract.ENV_TOKEN_FILE: "vault-token"
    }

    run = workspace.run(env)

    assert run.returncode == ExitCode.OK, run.stderr
    for name in ("vault-token", contract.TOKEN_INFO_FILE_NAME):
        assert stat.S_IMODE((workspace.output_dir / name).stat().st_mode) == 0o440
    assert sorted(path.name for path in workspace.output_dir.iterdir()) == [
        contract.TOKEN_INFO_FILE_NAME,
        "vault-token",
    ]
