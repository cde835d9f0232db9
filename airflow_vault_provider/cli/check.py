"""`airflow vault-init check`: validate `[vault_init]`, reach Vault and optionally log in.

Runs from wherever the command is started (a scheduler pod, a laptop with a port-forward),
so it sees Vault through that network, not necessarily the task pods'. It prints what it
checked and exits 1 with the reason on the first failure. It never prints a token.
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.request
from typing import Any

from airflow_vault_provider.config import VaultInitConfig, VaultInitConfigError

_HEALTH_TIMEOUT_SECONDS = 10.0
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
        raise SystemExit(f"[vault_init] is invalid: {error}") from None
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
    raise SystemExit(f"Vault at {config.vault_addr} is {state}; the init container could not log in.")


def login(config: VaultInitConfig) -> str:
    """Log in with the configured auth method from here; return a summary without the token."""
    raise SystemExit("vault-init check --login is not available in this build.")


def _field(body: bytes, name: str) -> str:
    try:
        value = json.loads(body or b"{}").get(name, "")
    except (ValueError, AttributeError):
        return ""
    return str(value)
