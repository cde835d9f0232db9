"""Failures of the init program: waiting, deadlines, denials, wrapping tokens, output, leaks."""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
import time
import uuid

import pytest

from airflow_vault_provider import contract
from airflow_vault_provider.init.errors import ExitCode
from tests.support.init_program import InitWorkspace
from tests.support.openbao import (
    JwtSigner,
    OpenBaoServer,
    PersistentOpenBao,
    TokenReviewDouble,
    enable_approle,
    enable_engine,
    enable_kubernetes,
    free_port,
    new_wrapped_secret_id,
    read_policy_for,
    unique_name,
    wrapping_lookup,
    write_policy,
)


def test_vault_starting_late_and_sealed(workspace: InitWorkspace) -> None:
    vault = PersistentOpenBao()
    try:
        vault.start()
        vault.initialize()
        creds = enable_approle(vault.client(), mount="approle")
        vault.stop()

        env = workspace.approle_env(vault.addr, "approle", creds.role_id, creds.secret_id)
        env[contract.ENV_TIMEOUT_SECONDS] = "60"
        started = time.monotonic()
        process = workspace.start(env)
        stderr_lines: list[str] = []
        seen_sealed = threading.Event()
        reader = threading.Thread(target=_collect_lines, args=(process, stderr_lines, seen_sealed), daemon=True)
        reader.start()

        # Nothing listens for a few seconds. Then Vault comes up sealed, and is unsealed
        # once the program has reported the sealed state.
        time.sleep(3)
        vault.start()
        assert seen_sealed.wait(timeout=20), "".join(stderr_lines)
        vault.unseal()
        process.wait(timeout=60)
        reader.join(timeout=10)
        run = workspace.collect(process.returncode, "", "".join(stderr_lines), time.monotonic() - started)
    finally:
        vault.cleanup()

    assert run.returncode == ExitCode.OK, run.stderr
    assert "is unreachable" in run.stderr
    assert "is sealed" in run.stderr
    assert run.file("token")
    assert run.elapsed < 60


def _collect_lines(process: subprocess.Popen[str], lines: list[str], seen_sealed: threading.Event) -> None:
    assert process.stderr is not None
    for line in process.stderr:
        lines.append(line)
        if "is sealed" in line:
            seen_sealed.set()


def test_vault_never_reachable(workspace: InitWorkspace) -> None:
    addr = f"http://127.0.0.1:{free_port()}"
    env = workspace.approle_env(addr, "approle", "role-id", "0b0b9a56-7a0e-4a4c-9d1e-0c3f4b5a6d7e")
    env[contract.ENV_TIMEOUT_SECONDS] = "3"

    run = workspace.run(env)

    assert run.returncode == ExitCode.VAULT_UNAVAILABLE
    assert run.elapsed >= 3
    assert run.elapsed < 15
    assert addr in run.termination_message
    assert "Timed out after 3 s" in run.termination_message
    assert contract.ENV_VAULT_ADDR in run.termination_message
    assert run.termination_message.count("\n") == 1
    assert run.stderr.count("retry") >= 2
    assert not (workspace.output_dir / "token").exists()


def test_wrong_role_fails_fast(
    openbao: OpenBaoServer, tokenreview_double: TokenReviewDouble, workspace: InitWorkspace
) -> None:
    mount = unique_name("k8s")
    enable_kubernetes(openbao.client(), tokenreview_double, mount=mount, role_name="airflow-worker")
    jwt = JwtSigner().service_account_token("airflow", "airflow-worker", "vault")
    tokenreview_double.register(jwt, "airflow", "airflow-worker")
    env = workspace.jwt_env(openbao.addr, "kubernetes", mount, "no-such-role", jwt) | {
        contract.ENV_TIMEOUT_SECONDS: "60"
    }

    run = workspace.run(env)

    assert run.returncode == ExitCode.LOGIN_DENIED
    assert run.elapsed < 10
    assert "role no-such-role" in run.termination_message
    assert f"auth/{mount}" in run.termination_message
    assert "retry" not in run.stderr


def test_unknown_service_account_denied(
    openbao: OpenBaoServer, tokenreview_double: TokenReviewDouble, workspace: InitWorkspace
) -> None:
    mount = unique_name("k8s")
    enable_kubernetes(openbao.client(), tokenreview_double, mount=mount, role_name="airflow-worker")
    jwt = JwtSigner().service_account_token("airflow", "airflow-worker", "vault")
    env = workspace.jwt_env(openbao.addr, "kubernetes", mount, "airflow-worker", jwt)

    run = workspace.run(env)

    assert run.returncode == ExitCode.LOGIN_DENIED
    assert "service account" in run.termination_message


def test_reused_wrapping_token(openbao: OpenBaoServer, workspace: InitWorkspace) -> None:
    root = openbao.client()
    creds = enable_approle(root, mount=unique_name("approle"))
    wrapping_token = new_wrapped_secret_id(root, creds.mount, creds.role_name)
    openbao.client(token=wrapping_token).sys.unwrap()

    run = workspace.run(workspace.approle_env(openbao.addr, creds.mount, creds.role_id, wrapping_token))

    assert run.returncode == ExitCode.WRAPPING_TOKEN_INVALID
    assert "already used" in run.termination_message
    assert "intercepted" in run.termination_message
    assert contract.ENV_APPROLE_SECRET_ID in run.termination_message


def test_substituted_wrapping_token(openbao: OpenBaoServer, workspace: InitWorkspace) -> None:
    root = openbao.client()
    creds = enable_approle(root, mount=unique_name("approle"))
    foreign = root.sys.wrap({"secret_id": "0b0b9a56-7a0e-4a4c-9d1e-0c3f4b5a6d7e"}, ttl="5m")["wrap_info"]["token"]

    run = workspace.run(workspace.approle_env(openbao.addr, creds.mount, creds.role_id, foreign))

    assert run.returncode == ExitCode.WRAPPING_TOKEN_INVALID
    assert "sys/wrapping/wrap" in run.termination_message
    # The program checks before it unwraps, so the foreign token stays unused.
    assert wrapping_lookup(root, foreign)["data"]["creation_path"] == "sys/wrapping/wrap"


@pytest.mark.parametrize("problem", ["missing", "a file"])
def test_unwritable_output_dir(openbao: OpenBaoServer, workspace: InitWorkspace, problem: str) -> None:
    root = openbao.client()
    creds = enable_approle(root, mount=unique_name("approle"))
    wrapping_token = new_wrapped_secret_id(root, creds.mount, creds.role_name)
    env = workspace.approle_env(openbao.addr, creds.mount, creds.role_id, wrapping_token)
    output_dir = workspace.root / "not-there"
    if problem == "a file":
        output_dir.write_text("")
    env[contract.ENV_OUTPUT_DIR] = str(output_dir)

    run = workspace.run(env)

    assert run.returncode == ExitCode.OUTPUT_NOT_WRITABLE
    assert str(output_dir) in run.termination_message
    assert contract.ENV_OUTPUT_DIR in run.termination_message
    # The output is checked before login, so the single-use wrapping token is still unused.
    assert wrapping_lookup(root, wrapping_token)["data"]["creation_path"].endswith("/secret-id")


MALFORMED_SETTINGS = [
    (contract.ENV_VAULT_ADDR, None),
    (contract.ENV_VAULT_ADDR, "ftp://vault.test"),
    (contract.ENV_VAULT_ADDR, "http://vault.test:99999"),
    (contract.ENV_AUTH_METHOD, "ldap"),
    (contract.ENV_AUTH_PATH, "bad path"),
    (contract.ENV_APPROLE_ROLE_ID, None),
    (contract.ENV_APPROLE_SECRET_ID, None),
    (contract.ENV_APPROLE_SECRET_ID_FILE, "/tmp/set-together-with-the-env-value"),
    (contract.ENV_APPROLE_SECRET_ID_WRAPPED, "maybe"),
    (contract.ENV_OUTPUT_DIR, None),
    (contract.ENV_OUTPUT_DIR, "relative/dir"),
    (contract.ENV_TOKEN_FILE, "../token"),
    (contract.ENV_SECRETS, "{not json"),
    (contract.ENV_SECRETS, '["a list"]'),
    (contract.ENV_SECRETS, '{"db.json": {"path": "secret/data/db", "format": "yaml"}}'),
    (contract.ENV_SECRETS, '{"db": {"path": "secret/data/db", "format": "raw"}}'),
    (contract.ENV_SECRETS, '{"token": "secret/data/db"}'),
    (contract.ENV_SECRETS, '{"../escape": "secret/data/db"}'),
    (contract.ENV_TIMEOUT_SECONDS, "soon"),
    (contract.ENV_TIMEOUT_SECONDS, "-5"),
    (contract.ENV_REQUEST_TIMEOUT_SECONDS, "0"),
    (contract.ENV_TLS_SERVER_NAME, "not a host"),
]


@pytest.mark.parametrize(("variable", "value"), MALFORMED_SETTINGS)
def test_malformed_setting_names_variable(workspace: InitWorkspace, variable: str, value: str | None) -> None:
    env = workspace.approle_env("http://127.0.0.1:1", "approle", "role-id", "0b0b9a56-7a0e-4a4c-9d1e-0c3f4b5a6d7e")
    if value is None:
        env.pop(variable, None)
    else:
        env[variable] = value

    run = workspace.run(env)

    assert run.returncode == ExitCode.INVALID_SETTINGS
    assert variable in run.termination_message
    assert run.termination_message.count("\n") == 1
    assert run.elapsed < 10


@pytest.mark.parametrize(("variable", "method"), [(contract.ENV_ROLE, "kubernetes"), (contract.ENV_JWT_FILE, "jwt")])
def test_identity_setting_names_variable(workspace: InitWorkspace, variable: str, method: str) -> None:
    env = workspace.env(
        "http://127.0.0.1:1",
        {
            contract.ENV_AUTH_METHOD: method,
            contract.ENV_ROLE: "task",
            contract.ENV_JWT_FILE: str(workspace.root / "no-such-token"),
        },
    )
    if variable == contract.ENV_ROLE:
        del env[contract.ENV_ROLE]

    run = workspace.run(env)

    assert run.returncode == ExitCode.INVALID_SETTINGS
    assert variable in run.termination_message


def test_missing_ca_bundle_names_variable(workspace: InitWorkspace) -> None:
    env = workspace.approle_env("https://127.0.0.1:1", "approle", "role-id", "0b0b9a56-7a0e-4a4c-9d1e-0c3f4b5a6d7e")
    env[contract.ENV_VAULT_CACERT] = str(workspace.root / "no-ca.pem")

    run = workspace.run(env)

    assert run.returncode == ExitCode.INVALID_SETTINGS
    assert contract.ENV_VAULT_CACERT in run.termination_message
    assert "no-ca.pem" in run.termination_message


def test_nothing_sensitive_is_shown(
    openbao: OpenBaoServer, tokenreview_double: TokenReviewDouble, workspace: InitWorkspace
) -> None:
    root = openbao.client()
    kv = unique_name("kv")
    enable_engine(root, "kv", kv, {"version": "2"})
    secret_values = {"API_KEY": "value-" + uuid.uuid4().hex, "PASSWORD": "pw-" + uuid.uuid4().hex}
    root.secrets.kv.v2.create_or_update_secret("app", secret_values, mount_point=kv)
    root.secrets.kv.v2.create_or_update_secret("bad", {"bad-key": secret_values["PASSWORD"]}, mount_point=kv)
    policy = unique_name("policy")
    write_policy(root, policy, read_policy_for({f"{kv}/data/*": "read"}))
    creds = enable_approle(root, mount=unique_name("approle"), policies=(policy,))
    wrapping_token = new_wrapped_secret_id(root, creds.mount, creds.role_name)
    mount = unique_name("k8s")
    enable_kubernetes(root, tokenreview_double, mount=mount, role_name="airflow-worker")
    jwt = JwtSigner().service_account_token("airflow", "airflow-worker", "vault")
    secrets = {
        "app.json": f"{kv}/data/app",
        "app.env": {"path": f"{kv}/data/app", "format": "env"},
        "key": {"path": f"{kv}/data/app", "format": "raw", "key": "API_KEY"},
    }

    plain_env = workspace.approle_env(openbao.addr, creds.mount, creds.role_id, creds.secret_id)
    runs = [
        workspace.run(plain_env | {contract.ENV_SECRETS: json.dumps(secrets)}),
        workspace.run(workspace.approle_env(openbao.addr, creds.mount, creds.role_id, wrapping_token)),
        # Failures: a reused wrapping token, a denied login, a key the env format rejects.
        workspace.run(workspace.approle_env(openbao.addr, creds.mount, creds.role_id, wrapping_token)),
        workspace.run(workspace.approle_env(openbao.addr, creds.mount, creds.role_id, creds.secret_id[::-1])),
        workspace.run(
            plain_env | {contract.ENV_SECRETS: f'{{"bad.env": {{"path": "{kv}/data/bad", "format": "env"}}}}'}
        ),
        workspace.run(workspace.jwt_env(openbao.addr, "kubernetes", mount, "airflow-worker", jwt)),
    ]
    assert [run.returncode for run in runs] == [
        ExitCode.OK,
        ExitCode.OK,
        ExitCode.WRAPPING_TOKEN_INVALID,
        ExitCode.LOGIN_DENIED,
        ExitCode.SECRET_NOT_RENDERABLE,
        ExitCode.LOGIN_DENIED,
    ]

    tokens = [runs[0].file("token")]
    sensitive = {
        "secret id": creds.secret_id,
        "reversed secret id": creds.secret_id[::-1],
        "wrapping token": wrapping_token,
        "service-account token": jwt,
        "Vault token": tokens[0],
        **secret_values,
    }
    for run in runs:
        shown = run.everything_shown()
        for what, value in sensitive.items():
            assert value not in shown, f"{what} shown by a run that exited {run.returncode}"


def test_vault_token_env_is_ignored(openbao: OpenBaoServer, workspace: InitWorkspace) -> None:
    # A root token in VAULT_TOKEN and ~/.vault-token must not stand in for a failed login.
    creds = enable_approle(openbao.client(), mount=unique_name("approle"))
    (workspace.home / ".vault-token").write_text(openbao.root_token)
    env = workspace.approle_env(openbao.addr, creds.mount, creds.role_id, creds.secret_id[::-1])
    env["VAULT_TOKEN"] = openbao.root_token

    run = workspace.run(env)

    assert run.returncode == ExitCode.LOGIN_DENIED
    assert not (workspace.output_dir / "token").exists()
    assert not (workspace.output_dir / contract.TOKEN_INFO_FILE_NAME).exists()


def test_https_to_plain_listener_fails_fast(openbao: OpenBaoServer, workspace: InitWorkspace) -> None:
    addr = openbao.addr.replace("http://", "https://")
    env = workspace.approle_env(addr, "approle", "role-id", "0b0b9a56-7a0e-4a4c-9d1e-0c3f4b5a6d7e")
    env[contract.ENV_TIMEOUT_SECONDS] = "60"

    run = workspace.run(env)

    assert run.returncode == ExitCode.VAULT_UNAVAILABLE
    assert "TLS handshake" in run.termination_message
    assert run.elapsed < 10


class NotVaultHandler(http.server.BaseHTTPRequestHandler):
    """A web server that is not Vault: every path returns 404 with an HTML page."""

    def do_GET(self) -> None:
        body = b"<html><body>Not Found</body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def test_address_of_another_service(workspace: InitWorkspace) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotVaultHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        addr = f"http://127.0.0.1:{server.server_address[1]}"
        env = workspace.approle_env(addr, "approle", "role-id", "0b0b9a56-7a0e-4a4c-9d1e-0c3f4b5a6d7e")
        env[contract.ENV_TIMEOUT_SECONDS] = "60"
        run = workspace.run(env)
    finally:
        server.shutdown()
        server.server_close()

    assert run.returncode == ExitCode.UNEXPECTED_RESPONSE
    assert f"{addr}/v1/sys/health returned HTTP 404" in run.termination_message
    assert run.elapsed < 10
