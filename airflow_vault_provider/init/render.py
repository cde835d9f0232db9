"""Render secrets and the token facts into file contents. Pure: no I/O."""

from __future__ import annotations

import datetime
import json
import re
import shlex
from typing import Any

from airflow_vault_provider.init.errors import ExitCode, InitError
from airflow_vault_provider.init.login import VaultToken
from airflow_vault_provider.init.settings import SecretRequest

_SHELL_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def render_secret(request: SecretRequest, data: dict[str, Any]) -> bytes:
    """Return the file content of one secret in its requested format."""
    if request.format == "env":
        return render_env(request, data)
    if request.format == "raw":
        return render_raw(request, data)
    return render_json(data)


def render_json(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def render_env(request: SecretRequest, data: dict[str, Any]) -> bytes:
    """Return `KEY=value` lines that a POSIX shell can source, each value single-quoted as needed.

    Values that are not strings are written as JSON (numbers, booleans, nested objects).
    """
    lines = []
    for key, value in data.items():
        if not _SHELL_NAME_RE.match(key):
            raise InitError(
                ExitCode.SECRET_NOT_RENDERABLE,
                f"Secret {request.path} has the key {key!r}, which is not a valid shell variable name, so "
                f"{request.file_name} cannot use the env format. Rename the key in Vault to letters, digits "
                "and '_' (not starting with a digit), or use the json format.",
            )
        lines.append(f"{key}={shlex.quote(_text(value))}\n")
    return "".join(lines).encode()


def render_raw(request: SecretRequest, data: dict[str, Any]) -> bytes:
    """Return one key's value as it is: a string unchanged, anything else as JSON."""
    if request.key not in data:
        available = ", ".join(sorted(data)) or "none"
        raise InitError(
            ExitCode.SECRET_NOT_RENDERABLE,
            f"Secret {request.path} has no key {request.key!r} for {request.file_name} (its keys: {available}). "
            "Fix the key of the raw format or the secret in Vault.",
        )
    return _text(data[request.key]).encode()


def render_token_info(token: VaultToken, now: datetime.datetime, auth_method: str, auth_path: str) -> bytes:
    """Return the facts about the token as JSON, without the token itself.

    `expire_time` is the login time plus the lease duration (UTC, ISO 8601), or null for a
    token without expiry. Renewals by the task do not update it.
    """
    expire_time = None
    if token.lease_duration > 0:
        expire_time = _iso(now + datetime.timedelta(seconds=token.lease_duration))
    info = {
        "accessor": token.accessor,
        "policies": list(token.policies),
        "token_policies": list(token.token_policies),
        "ttl_seconds": token.lease_duration,
        "renewable": token.renewable,
        "token_type": token.token_type,
        "entity_id": token.entity_id,
        "issue_time": _iso(now),
        "expire_time": expire_time,
        "auth_method": auth_method,
        "auth_path": auth_path,
    }
    return (json.dumps(info, indent=2) + "\n").encode()


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
