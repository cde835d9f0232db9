"""`airflow vault-init check`: validate `[vault_init]`, reach Vault and optionally log in.

Runs from wherever the command is started (a scheduler pod, a laptop with a port-forward),
so it reaches Vault through that network, not necessarily the task pods'. It prints what it
checked and exits 1 with the reason on the first failure. It never prints a token.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from airflow_vault_provider import contract
from airflow_vault_provider.config import VaultInitConfig, VaultInitConfigError
from airflow_vault_provider.injection.environment import init_container_env

_HEALTH_TIMEOUT_SECONDS = 10.0
# Time the init program may take beyond its own login deadline before this command stops it.
_LOGIN_GRACE_SECONDS = 15
# Inputs that the pod provides from files or Secrets, taken from this command's environment.
_LOCAL_INPUTS = (
    contract.ENV_JWT_FILE,
    contract.ENV_APPROLE_SECRET_ID,
    contract.ENV_APPROLE_SECRET_ID_FILE,
    contract.ENV_APPROLE_SECRET_ID_WRAPPED,
    contract.ENV_VAULT_CACERT,
)
# Status codes of GET /v1/sys/health (Vault and OpenBao API docs), and what they mean here.
_HEALTHY = {200: "active", 429: "unsealed standby", 473: "performance standby"}
_UNHEALTHY = {
    472: "a disaster-recovery secondary, which cannot serve logins",
    501: "not initialized",
    503: "sealed",
}


def check(args: Any) -> None:
    """Run the checks that ``args`` selects; exit 1 with one line on the first failure."""
    config = _valid_settings()
    print(
        f"[vault_init] is valid: vault_addr {config.vault_addr}, auth method {config.auth_method} "
        f"at auth/{config.auth_path}, role {config.role or '-'}."
    )

    state = read_health(config)
    print(f"Vault at {config.vault_addr} is reachable and {state}.")

    if getattr(args, "login", False):
        print(login(config))


def _valid_settings() -> VaultInitConfig:
    try:
        config = VaultInitConfig.from_airflow_conf()
        config.check_complete()
    except VaultInitConfigError as error:
        raise SystemExit(str(error)) from None
    return config


def read_health(config: VaultInitConfig) -> str:
    """Return Vault's state from `GET /v1/sys/health`; raise SystemExit if it cannot serve logins.

    TLS is verified against `VAULT_CACERT` when it is set in this command's environment,
    else against the system CA store: `[vault_init] ca_cert_secret` names a Kubernetes
    Secret, which this command does not read.
    """
    # NOTE: [vault_init] tls_server_name is not applied here; urllib sends the URL's host as SNI.
    url = config.vault_addr + "/v1/sys/health"
    context = ssl.create_default_context(cafile=os.environ.get("VAULT_CACERT") or None)
    # vault_addr is validated as an http:// or https:// URL, so no other scheme reaches urlopen.
    request = urllib.request.Request(url, method="GET")  # noqa: S310
    try:
        with urllib.request.urlopen(  # noqa: S310
            request, timeout=_HEALTH_TIMEOUT_SECONDS, context=context
        ) as response:
            status = response.status
            body = response.read()
    except urllib.error.HTTPError as error:
        status = error.code
        body = error.read()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise SystemExit(
            f"Vault at {config.vault_addr} is unreachable: {reason}. Check [vault_init] vault_addr, the "
            "network path from here, and VAULT_CACERT for a private CA."
        ) from None

    if status in _HEALTHY:
        version = _field(body, "version")
        return _HEALTHY[status] + (f", version {version}" if version else "")
    state = _UNHEALTHY.get(status, f"answering {url} with HTTP {status}")
    raise SystemExit(f"Vault at {config.vault_addr} is {state}, so vault-init containers cannot log in.")


def login(config: VaultInitConfig) -> str:
    """Log in by running the init program here; return a summary of the token, never the token.

    The init program gets the environment the injector gives `vault-init`, minus the secrets
    to render, with a temporary output directory that is deleted afterwards. Files that only
    exist inside a task pod come from this command's environment instead: the service-account
    token (`VAULT_INIT_JWT_FILE`), the AppRole secret id (`VAULT_INIT_APPROLE_SECRET_ID` or
    `..._FILE`) and the CA bundle (`VAULT_CACERT`).
    """
    with tempfile.TemporaryDirectory(prefix="vault-init-check-") as work_dir:
        env = _init_program_env(config, Path(work_dir))
        jwt_file = env.get(contract.ENV_JWT_FILE, "")
        if config.auth_method in ("kubernetes", "jwt") and not Path(jwt_file).is_file():
            raise SystemExit(
                f"Cannot log in with {config.auth_method} auth from here: the service-account token "
                f"{jwt_file} does not exist. Set {contract.ENV_JWT_FILE} to a token file Vault accepts for "
                f"role {config.role}."
            )

        try:
            result = subprocess.run(
                [sys.executable, "-m", "airflow_vault_provider.init"],
                env=env,
                capture_output=True,
                text=True,
                timeout=config.login_timeout_seconds + _LOGIN_GRACE_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SystemExit(
                f"Login timed out after {config.login_timeout_seconds} s ([vault_init] login_timeout_seconds). "
                "Check the network path to Vault from here, or raise the timeout."
            ) from None

        if result.returncode != 0:
            raise SystemExit(f"Login failed (init program exit {result.returncode}): {_failure_reason(env, result)}")
        info = json.loads((Path(env[contract.ENV_OUTPUT_DIR]) / contract.TOKEN_INFO_FILE_NAME).read_text())

    policies = ", ".join(info.get("policies") or []) or "none"
    return (
        f"Logged in with {config.auth_method} auth at auth/{config.auth_path}: policies {policies}, "
        f"TTL {info.get('ttl_seconds')} s. The token was discarded."
    )


def _init_program_env(config: VaultInitConfig, work_dir: Path) -> dict[str, str]:
    env = {var.name: var.value for var in init_container_env(config) if var.value is not None}
    env.pop(contract.ENV_SECRETS, None)
    env.pop(contract.ENV_VAULT_CACERT, None)
    for name in _LOCAL_INPUTS:
        if os.environ.get(name):
            env[name] = os.environ[name]

    output_dir = work_dir / "output"
    output_dir.mkdir(mode=0o700)
    env[contract.ENV_OUTPUT_DIR] = str(output_dir)
    env[contract.ENV_TERMINATION_LOG] = str(work_dir / "termination-log")
    # Its own HOME: a ~/.vault-token of the user running this command must not be picked up.
    env["HOME"] = str(work_dir)
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    return env


def _failure_reason(env: dict[str, str], result: subprocess.CompletedProcess[str]) -> str:
    termination_log = Path(env[contract.ENV_TERMINATION_LOG])
    if termination_log.is_file() and termination_log.read_text().strip():
        return termination_log.read_text().strip()
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def _field(body: bytes, name: str) -> str:
    try:
        value = json.loads(body or b"{}").get(name, "")
    except (ValueError, AttributeError):
        return ""
    return str(value)
