"""Pure parts of the init program: settings, credential rules, KV detection, rendering, files."""

from __future__ import annotations

import datetime
import json
import os
import stat
from pathlib import Path

import pytest

from airflow_vault_provider import contract
from airflow_vault_provider.init.errors import ExitCode, InitError, register_sensitive, scrub
from airflow_vault_provider.init.files import check_writable, write_atomic, write_termination_message
from airflow_vault_provider.init.login import VaultToken, is_wrapping_token
from airflow_vault_provider.init.render import render_env, render_json, render_raw, render_token_info
from airflow_vault_provider.init.settings import SecretRequest, SensitiveText, load_settings
from airflow_vault_provider.init.vault import (
    Deadline,
    VaultClient,
    VaultResponseError,
    VaultUnreachableError,
    backoff_delay,
)
from airflow_vault_provider.init.vault_secrets import MountInfo, api_path_for, is_kv2

BASE_ENV = {
    contract.ENV_VAULT_ADDR: "https://vault.test:8200/",
    contract.ENV_AUTH_METHOD: "kubernetes",
    contract.ENV_ROLE: "etl",
    contract.ENV_OUTPUT_DIR: "/vault/secrets",
}


def test_settings_defaults() -> None:
    settings = load_settings(BASE_ENV)

    assert settings.vault_addr == "https://vault.test:8200"
    assert settings.auth_path == "kubernetes"
    assert settings.jwt_file == contract.SA_TOKEN_DIR + "/" + contract.SA_TOKEN_FILE_NAME
    assert settings.token_file == "token"
    assert settings.timeout_seconds == 120
    assert settings.request_timeout_seconds == 10
    assert settings.termination_log == contract.DEFAULT_TERMINATION_LOG
    assert settings.secrets == ()


def test_settings_request_timeout_capped_by_deadline() -> None:
    settings = load_settings(BASE_ENV | {contract.ENV_TIMEOUT_SECONDS: "4", contract.ENV_REQUEST_TIMEOUT_SECONDS: "30"})

    assert settings.request_timeout_seconds == 4


def test_settings_secret_shorthand() -> None:
    env = BASE_ENV | {
        contract.ENV_SECRETS: json.dumps(
            {"a.json": "/secret/data/a/", "b": {"path": "kv/b", "format": "raw", "key": "k"}}
        )
    }

    secrets = load_settings(env).secrets

    assert secrets == (SecretRequest("a.json", "secret/data/a"), SecretRequest("b", "kv/b", "raw", "k"))


def test_settings_hide_secret_id() -> None:
    secret_id = "3a1f0c2e-9d4b-4c6a-8e7f-112233445566"
    env = BASE_ENV | {
        contract.ENV_AUTH_METHOD: "approle",
        contract.ENV_APPROLE_ROLE_ID: "role",
        contract.ENV_APPROLE_SECRET_ID: secret_id + "\n",
    }

    settings = load_settings(env)

    assert settings.approle_secret_id is not None
    assert settings.approle_secret_id.reveal() == secret_id
    assert secret_id not in repr(settings)
    assert secret_id not in str(settings.approle_secret_id)


def test_settings_error_is_one_line() -> None:
    with pytest.raises(InitError) as caught:
        load_settings(BASE_ENV | {contract.ENV_SECRETS: '{"x": {"path": "a", "format": "raw"}}'})

    assert caught.value.code == ExitCode.INVALID_SETTINGS
    assert contract.ENV_SECRETS in caught.value.message
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    ("value", "mode", "expected"),
    [
        ("3a1f0c2e-9d4b-4c6a-8e7f-112233445566", "auto", False),
        ("s.vGcT8RSTcy561ELcRIXGj2vf", "auto", True),
        ("hvs.CAESIJlU0dP3xJr7Zc0123456789abcdefGh1MNoPqRsTuVwXyZ", "auto", True),
        ("my-custom-secret-id", "auto", False),
        ("s.short", "auto", False),
        ("3a1f0c2e-9d4b-4c6a-8e7f-112233445566", "wrapped", True),
        ("s.vGcT8RSTcy561ELcRIXGj2vf", "plain", False),
    ],
)
def test_wrapping_token_rule(value: str, mode: str, expected: bool) -> None:
    assert is_wrapping_token(value, mode) is expected


KV2 = MountInfo(path="secret/", engine="kv", kv_version="2")
KV1 = MountInfo(path="kv/", engine="kv", kv_version="1")


@pytest.mark.parametrize(
    ("path", "mount", "expected"),
    [
        ("secret/team/db", KV2, "secret/data/team/db"),
        ("secret/data/team/db", KV2, "secret/data/team/db"),
        ("kv/team/db", KV1, "kv/team/db"),
        ("totp/code/app", MountInfo("totp/", "totp", ""), "totp/code/app"),
        ("secret/team/db", None, "secret/team/db"),
    ],
)
def test_kv2_api_path(path: str, mount: MountInfo | None, expected: str) -> None:
    assert api_path_for(path, mount) == expected


def test_kv2_detected_by_shape_without_mount() -> None:
    envelope = {"data": {"a": "1"}, "metadata": {"version": 3, "created_time": "2026-01-01T00:00:00Z"}}
    kv1_lookalike = {"data": {"a": "1"}, "metadata": {"owner": "team"}}

    assert is_kv2(None, envelope) is True
    assert is_kv2(None, kv1_lookalike) is False
    assert is_kv2(KV1, envelope) is False
    assert is_kv2(KV2, {"data": None, "metadata": {}}) is True


def test_render_env_quotes_values() -> None:
    request = SecretRequest("x.env", "kv/x", "env")

    content = render_env(request, {"A": "plain", "B": "it's $HOME", "C": 5, "D": {"n": True}}).decode()

    assert content == "A=plain\nB='it'\"'\"'s $HOME'\nC=5\nD='{\"n\":true}'\n"


def test_render_env_bad_key_hides_value() -> None:
    with pytest.raises(InitError) as caught:
        render_env(SecretRequest("x.env", "kv/x", "env"), {"1abc": "hidden-value"})

    assert caught.value.code == ExitCode.SECRET_NOT_RENDERABLE
    assert "'1abc'" in caught.value.message
    assert "hidden-value" not in caught.value.message


def test_render_raw_and_json() -> None:
    request = SecretRequest("cert.pem", "pki/x", "raw", "certificate")

    assert render_raw(request, {"certificate": "-----BEGIN-----\n"}) == b"-----BEGIN-----\n"
    assert render_raw(SecretRequest("n", "kv/x", "raw", "n"), {"n": 42}) == b"42"
    assert json.loads(render_json({"ü": "ö"})) == {"ü": "ö"}


def test_token_info_has_no_token() -> None:
    token = VaultToken(
        client_token=SensitiveText("s.TheTokenItselfMustNotAppear"),
        accessor="acc",
        policies=("default", "etl"),
        token_policies=("etl",),
        lease_duration=3600,
        renewable=True,
        token_type="service",
        entity_id="ent",
    )
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)

    info = json.loads(render_token_info(token, now, "approle", "approle"))

    assert "s.TheTokenItselfMustNotAppear" not in json.dumps(info)
    assert info["expire_time"] == "2026-01-02T04:04:05Z"
    assert info["issue_time"] == "2026-01-02T03:04:05Z"
    assert info["ttl_seconds"] == 3600
    assert info["policies"] == ["default", "etl"]


def test_backoff_grows_and_is_capped() -> None:
    highest = [backoff_delay(attempt, rng=lambda low, high: high) for attempt in range(1, 12)]
    lowest = [backoff_delay(attempt, rng=lambda low, high: low) for attempt in range(1, 12)]

    assert highest[:4] == [0.25, 0.5, 1.0, 2.0]
    assert max(highest) == 5.0
    assert lowest[0] == 0.125


@pytest.mark.parametrize(
    ("status", "transient"),
    [(500, True), (503, True), (429, True), (412, True), (307, True), (400, False), (403, False), (404, False)],
)
def test_retry_classification(status: int, transient: bool) -> None:
    assert VaultResponseError(status, ["x"]).transient is transient


def test_deadline_counts_down() -> None:
    now = [100.0]
    deadline = Deadline(5, clock=lambda: now[0])
    now[0] = 103.5

    assert deadline.remaining() == pytest.approx(1.5)
    now[0] = 200
    assert deadline.remaining() == 0


def test_scrub_removes_registered_values() -> None:
    register_sensitive("hunter2-value")

    assert scrub("denied for hunter2-value!") == "denied for <redacted>!"
    assert InitError(ExitCode.LOGIN_DENIED, "x hunter2-value y").message == "x <redacted> y"


def test_write_atomic_mode_and_no_leftovers(tmp_path: Path) -> None:
    target = tmp_path / "token"
    target.write_text("old and longer content")

    write_atomic(tmp_path, "token", b"new")

    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o440
    assert os.listdir(tmp_path) == ["token"]


def test_check_writable_rejects_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(InitError) as caught:
        check_writable(tmp_path / "missing")

    assert caught.value.code == ExitCode.OUTPUT_NOT_WRITABLE
    assert str(tmp_path / "missing") in caught.value.message


def test_termination_message_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "termination-log"

    assert write_termination_message(str(path), "first\nsecond   third " + "é" * 5000)

    content = path.read_bytes()
    assert content.count(b"\n") == 1
    assert len(content) <= 4096
    assert content.decode().startswith("first second third é")
    assert write_termination_message(str(tmp_path / "missing" / "log"), "x") is False


def _client(timeout: float) -> VaultClient:
    settings = load_settings(BASE_ENV | {contract.ENV_VAULT_ADDR: "http://127.0.0.1:1"})
    return VaultClient(settings, Deadline(timeout))


def test_retrying_until_success() -> None:
    outcomes: list[Exception | None] = [
        VaultUnreachableError("refused"),
        VaultResponseError(503, ["Vault is sealed"]),
        None,
    ]

    def attempt() -> str:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return "done"

    assert _client(10).retrying("test", attempt) == "done"
    assert outcomes == []


def test_retrying_raises_client_error_at_once() -> None:
    calls = []

    def attempt() -> None:
        calls.append(1)
        raise VaultResponseError(403, ["permission denied"])

    with pytest.raises(VaultResponseError):
        _client(10).retrying("test", attempt)
    assert len(calls) == 1


def test_retrying_stops_at_deadline() -> None:
    def attempt() -> None:
        raise VaultUnreachableError("connection refused")

    with pytest.raises(InitError) as caught:
        _client(0.5).retrying("logging in", attempt)

    assert caught.value.code == ExitCode.VAULT_UNAVAILABLE
    assert "while logging in" in caught.value.message
    assert "connection refused" in caught.value.message
