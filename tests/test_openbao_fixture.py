"""The shared OpenBao fixture: the server runs, and each auth helper yields a working login."""

from __future__ import annotations

import hvac
import pytest

from tests.support.openbao import (
    JwtSigner,
    OpenBaoServer,
    TokenReviewDouble,
    enable_approle,
    enable_jwt,
    enable_kubernetes,
    new_wrapped_secret_id,
    unique_name,
)


def test_server_is_active(openbao: OpenBaoServer) -> None:
    health = openbao.client().sys.read_health_status(method="GET")
    assert health["initialized"] is True
    assert health["sealed"] is False
    assert openbao.addr.startswith("http://127.0.0.1:")


def test_server_home_is_private(openbao: OpenBaoServer) -> None:
    assert not (openbao.home / ".vault-token").exists()


def test_approle_helper_logs_in(openbao: OpenBaoServer) -> None:
    root = openbao.client()
    creds = enable_approle(root, mount=unique_name("approle"))
    login = hvac.Client(url=openbao.addr, token="")
    auth = login.auth.approle.login(role_id=creds.role_id, secret_id=creds.secret_id, mount_point=creds.mount)
    assert auth["auth"]["client_token"]


def test_wrapped_secret_id_unwraps(openbao: OpenBaoServer) -> None:
    root = openbao.client()
    creds = enable_approle(root, mount=unique_name("approle"))
    wrapping_token = new_wrapped_secret_id(root, creds.mount, creds.role_name)
    unwrapped = openbao.client(token=wrapping_token).sys.unwrap()
    assert unwrapped["data"]["secret_id"]


def test_jwt_helper_logs_in(openbao: OpenBaoServer) -> None:
    root = openbao.client()
    signer = JwtSigner()
    mount = unique_name("jwt")
    enable_jwt(root, signer, mount=mount, role_name="task", audience="vault")
    login = hvac.Client(url=openbao.addr, token="")
    auth = login.auth.jwt.jwt_login(role="task", jwt=signer.mint("worker", "vault"), path=mount)
    assert auth["auth"]["client_token"]


def test_jwt_helper_rejects_foreign_key(openbao: OpenBaoServer) -> None:
    root = openbao.client()
    mount = unique_name("jwt")
    enable_jwt(root, JwtSigner(), mount=mount)
    login = hvac.Client(url=openbao.addr, token="")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        login.auth.jwt.jwt_login(role="task", jwt=JwtSigner().mint("worker", "vault"), path=mount)


def test_kubernetes_helper_logs_in(openbao: OpenBaoServer, tokenreview_double: TokenReviewDouble) -> None:
    root = openbao.client()
    mount = unique_name("kubernetes")
    enable_kubernetes(root, tokenreview_double, mount=mount, namespace="airflow", service_account="worker")
    token = JwtSigner().service_account_token("airflow", "worker", "vault")
    tokenreview_double.register(token, "airflow", "worker")
    login = hvac.Client(url=openbao.addr, token="")
    auth = login.auth.kubernetes.login(role="task", jwt=token, mount_point=mount)
    assert auth["auth"]["client_token"]
    assert len(tokenreview_double.reviews) == 1


def test_kubernetes_helper_rejects_unknown_token(
    openbao: OpenBaoServer, tokenreview_double: TokenReviewDouble
) -> None:
    root = openbao.client()
    mount = unique_name("kubernetes")
    enable_kubernetes(root, tokenreview_double, mount=mount, namespace="airflow", service_account="worker")
    token = JwtSigner().service_account_token("airflow", "worker", "vault")
    login = hvac.Client(url=openbao.addr, token="")
    with pytest.raises(hvac.exceptions.Forbidden):
        login.auth.kubernetes.login(role="task", jwt=token, mount_point=mount)
