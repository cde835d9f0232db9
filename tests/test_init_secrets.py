"""The init program reads KV v1, KV v2 and a non-KV engine, and writes every format."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from airflow_vault_provider import contract
from airflow_vault_provider.init.errors import ExitCode
from tests.support.init_program import InitWorkspace
from tests.support.openbao import (
    AppRoleCredentials,
    OpenBaoServer,
    enable_approle,
    enable_engine,
    read_policy_for,
    unique_name,
    write_policy,
)

# Values chosen to break naive quoting: quotes, spaces, a newline, shell syntax, non-ASCII.
TRICKY_VALUES = {
    "USER_NAME": "airflow",
    "PASSWORD": 'it\'s a "pass" $(touch /tmp/pwned) `id` \\ ;|&',
    "MULTI_LINE": "line one\nline two",
    "UNICODE": "grüße ✓",
    "EMPTY": "",
}


@pytest.fixture(scope="module")
def engines(openbao: OpenBaoServer) -> dict[str, str]:
    """Mounts with one secret each: KV v2, KV v1 and the TOTP engine, read by one AppRole."""
    suffix = uuid.uuid4().hex[:8]
    mounts = {"kv2": f"kv2-{suffix}", "kv1": f"kv1-{suffix}", "totp": f"totp-{suffix}"}
    root = openbao.client()
    enable_engine(root, "kv", mounts["kv2"], {"version": "2"})
    enable_engine(root, "kv", mounts["kv1"], {"version": "1"})
    enable_engine(root, "totp", mounts["totp"])
    root.secrets.kv.v2.create_or_update_secret("app/db", dict(TRICKY_VALUES), mount_point=mounts["kv2"])
    root.secrets.kv.v1.create_or_update_secret("app/db", dict(TRICKY_VALUES), mount_point=mounts["kv1"])
    root.secrets.kv.v2.create_or_update_secret(
        "app/bad-keys", {"not-a-shell-name": "value-1"}, mount_point=mounts["kv2"]
    )
    root.adapter.post(f"/v1/{mounts['totp']}/keys/app", json={"generate": True, "issuer": "test", "account_name": "a"})
    write_policy(
        root,
        f"reader-{suffix}",
        read_policy_for(
            {
                f"{mounts['kv2']}/data/app/*": "read",
                f"{mounts['kv1']}/app/*": "read",
                f"{mounts['totp']}/code/app": "read",
            }
        ),
    )
    return mounts | {"policy": f"reader-{suffix}"}


@pytest.fixture
def reader(openbao: OpenBaoServer, engines: dict[str, str]) -> AppRoleCredentials:
    return enable_approle(openbao.client(), mount=unique_name("approle"), policies=(engines["policy"],))


def _env(workspace: InitWorkspace, openbao: OpenBaoServer, reader: AppRoleCredentials, secrets: dict) -> dict[str, str]:
    login = workspace.approle_env(openbao.addr, reader.mount, reader.role_id, reader.secret_id)
    return login | {contract.ENV_SECRETS: json.dumps(secrets)}


def _source_env_file(path: Path) -> dict[str, str]:
    """Source an env-format file in /bin/sh with `set -a`, and return the variables it exported."""
    dump = f"import json, os; print(json.dumps({{k: os.environ[k] for k in {sorted(TRICKY_VALUES)!r}}}))"
    script = f'set -a; . "{path}"; exec "$PYTHON" -c "$DUMP"'
    env = {"PATH": os.defpath, "PYTHON": sys.executable, "DUMP": dump}
    output = subprocess.run(["/bin/sh", "-c", script], capture_output=True, check=True, env=env, text=True).stdout
    exported: dict[str, str] = json.loads(output)
    return exported


@pytest.mark.parametrize("path_form", ["data", "short"])
def test_kv2_in_every_format(
    openbao: OpenBaoServer,
    engines: dict[str, str],
    reader: AppRoleCredentials,
    workspace: InitWorkspace,
    path_form: str,
) -> None:
    mount = engines["kv2"]
    path = f"{mount}/data/app/db" if path_form == "data" else f"{mount}/app/db"
    secrets = {
        "db.json": {"path": path, "format": "json"},
        "db.env": {"path": path, "format": "env"},
        "password": {"path": path, "format": "raw", "key": "PASSWORD"},
        "db-default.json": path,
    }

    run = workspace.run(_env(workspace, openbao, reader, secrets))

    assert run.returncode == ExitCode.OK, run.stderr
    assert json.loads(run.file("db.json")) == TRICKY_VALUES
    assert json.loads(run.file("db-default.json")) == TRICKY_VALUES
    assert _source_env_file(workspace.output_dir / "db.env") == TRICKY_VALUES
    assert run.file("password") == TRICKY_VALUES["PASSWORD"]
    for name in secrets:
        assert stat.S_IMODE((workspace.output_dir / name).stat().st_mode) == 0o440


def test_kv1_in_every_format(
    openbao: OpenBaoServer, engines: dict[str, str], reader: AppRoleCredentials, workspace: InitWorkspace
) -> None:
    path = f"{engines['kv1']}/app/db"
    secrets = {
        "db.json": {"path": path},
        "db.env": {"path": path, "format": "env"},
        "user": {"path": path, "format": "raw", "key": "USER_NAME"},
    }

    run = workspace.run(_env(workspace, openbao, reader, secrets))

    assert run.returncode == ExitCode.OK, run.stderr
    assert json.loads(run.file("db.json")) == TRICKY_VALUES
    assert _source_env_file(workspace.output_dir / "db.env") == TRICKY_VALUES
    assert run.file("user") == "airflow"


def test_totp_engine_in_every_format(
    openbao: OpenBaoServer, engines: dict[str, str], reader: AppRoleCredentials, workspace: InitWorkspace
) -> None:
    path = f"{engines['totp']}/code/app"
    secrets = {
        "totp.json": {"path": path},
        "totp.env": {"path": path, "format": "env"},
        "code": {"path": path, "format": "raw", "key": "code"},
    }

    run = workspace.run(_env(workspace, openbao, reader, secrets))

    assert run.returncode == ExitCode.OK, run.stderr
    response = json.loads(run.file("totp.json"))
    assert response["code"].isdigit()
    assert len(response["code"]) == 6
    # The code changes every 30 seconds, and each file reads the engine anew.
    assert run.file("code").isdigit()
    assert len(run.file("code")) == 6
    assert any(line.startswith("code=") for line in run.file("totp.env").splitlines())


def test_env_format_rejects_bad_key(
    openbao: OpenBaoServer, engines: dict[str, str], reader: AppRoleCredentials, workspace: InitWorkspace
) -> None:
    path = f"{engines['kv2']}/data/app/bad-keys"

    run = workspace.run(_env(workspace, openbao, reader, {"bad.env": {"path": path, "format": "env"}}))

    assert run.returncode == ExitCode.SECRET_NOT_RENDERABLE
    assert "'not-a-shell-name'" in run.termination_message
    assert "value-1" not in run.everything_shown()
    assert not (workspace.output_dir / "bad.env").exists()


def test_raw_format_missing_key(
    openbao: OpenBaoServer, engines: dict[str, str], reader: AppRoleCredentials, workspace: InitWorkspace
) -> None:
    path = f"{engines['kv2']}/data/app/db"

    run = workspace.run(_env(workspace, openbao, reader, {"x": {"path": path, "format": "raw", "key": "NOPE"}}))

    assert run.returncode == ExitCode.SECRET_NOT_RENDERABLE
    assert "'NOPE'" in run.termination_message
    assert "PASSWORD" in run.termination_message
    assert TRICKY_VALUES["PASSWORD"] not in run.everything_shown()


def test_missing_secret_path(
    openbao: OpenBaoServer, engines: dict[str, str], reader: AppRoleCredentials, workspace: InitWorkspace
) -> None:
    path = f"{engines['kv2']}/data/app/does-not-exist"

    run = workspace.run(_env(workspace, openbao, reader, {"db.json": path}))

    assert run.returncode == ExitCode.SECRET_UNAVAILABLE
    assert path in run.termination_message
    assert "not found" in run.termination_message
    assert "db.json" in run.termination_message


def test_forbidden_secret_path(
    openbao: OpenBaoServer, engines: dict[str, str], reader: AppRoleCredentials, workspace: InitWorkspace
) -> None:
    path = f"{engines['kv2']}/data/other/db"

    run = workspace.run(_env(workspace, openbao, reader, {"db.json": path}))

    assert run.returncode == ExitCode.SECRET_UNAVAILABLE
    assert path in run.termination_message
    assert "permission denied" in run.termination_message


def test_existing_files_replaced_whole(
    openbao: OpenBaoServer, engines: dict[str, str], reader: AppRoleCredentials, workspace: InitWorkspace
) -> None:
    path = f"{engines['kv2']}/data/app/db"
    old_content = "x" * 10_000
    for name in ("token", "user"):
        target = workspace.output_dir / name
        target.write_text(old_content)
        target.chmod(0o400)
    old_inode = (workspace.output_dir / "user").stat().st_ino

    run = workspace.run(_env(workspace, openbao, reader, {"user": {"path": path, "format": "raw", "key": "USER_NAME"}}))

    assert run.returncode == ExitCode.OK, run.stderr
    assert run.file("user") == "airflow"
    # Vault accepts the file's whole content as a token, so nothing of the old content remains.
    assert openbao.client().auth.token.lookup(run.file("token"))["data"]["accessor"]
    assert (workspace.output_dir / "user").stat().st_ino != old_inode
    assert stat.S_IMODE((workspace.output_dir / "user").stat().st_mode) == 0o440
    assert sorted(p.name for p in workspace.output_dir.iterdir()) == sorted(
        [contract.TOKEN_INFO_FILE_NAME, "token", "user"]
    )
