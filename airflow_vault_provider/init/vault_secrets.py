"""Read the requested secrets: KV version 1 and 2, and any other engine's read response.

How a KV version 2 secret is recognised, in order:
1. `sys/internal/ui/mounts/<path>` names the mount and its KV version. Vault and OpenBao
   return it for any token whose policies grant some capability under that mount. On a
   version 2 mount, a path without `data/` right after the mount gets it inserted, so
   `secret/team/db` and `secret/data/team/db` read the same secret.
2. When that endpoint is not available to the token, the path is read as given. A response
   whose `data` has exactly the keys `data` and `metadata` is then taken to be KV version 2
   when the metadata contains `version` and `created_time`.
A KV version 2 secret is written as its inner `data`. Every other response is written as
its `data` field, as the engine returned it.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from airflow_vault_provider.init.errors import ExitCode, InitError, register_sensitive
from airflow_vault_provider.init.settings import SecretRequest
from airflow_vault_provider.init.vault import VaultClient, VaultResponseError

log = logging.getLogger(__name__)

_KV2_METADATA_KEYS = {"version", "created_time"}


@dataclasses.dataclass(frozen=True)
class MountInfo:
    """The secrets engine mount that contains a path."""

    path: str
    engine: str
    kv_version: str


def read_secret(client: VaultClient, token: str, request: SecretRequest) -> dict[str, Any]:
    """Read one secret and return the key-value data to render."""
    mount = _mount_of(client, token, request.path)
    api_path = api_path_for(request.path, mount)

    try:
        response = client.retrying(f"reading {request.path}", lambda: client.request("GET", api_path, token=token))
    except VaultResponseError as error:
        raise _read_failure(request, api_path, error) from None

    data = response.get("data")
    _register_values(data)
    if not isinstance(data, dict):
        raise InitError(
            ExitCode.SECRET_UNAVAILABLE,
            f"Secret {api_path} (for file {request.file_name}) has no data. Check that the path names a "
            "secret and not a folder; folders are listed, not read.",
        )
    if is_kv2(mount, data):
        inner = data.get("data")
        if not isinstance(inner, dict):
            raise InitError(
                ExitCode.SECRET_UNAVAILABLE,
                f"Secret {api_path} (for file {request.file_name}) has no current version: it was deleted "
                "or destroyed. Write a new version or undelete it.",
            )
        return inner
    return data


def api_path_for(path: str, mount: MountInfo | None) -> str:
    """Return the API path to read: on a KV version 2 mount, with `data/` after the mount."""
    if mount is None or mount.engine not in ("kv", "generic") or mount.kv_version != "2":
        return path
    prefix = mount.path.rstrip("/") + "/"
    if not path.startswith(prefix):
        return path
    rest = path[len(prefix) :]
    if rest.startswith("data/"):
        return path
    return prefix + "data/" + rest


def is_kv2(mount: MountInfo | None, data: dict[str, Any]) -> bool:
    """Whether a read response's ``data`` is a KV version 2 envelope."""
    if mount is not None:
        return mount.engine in ("kv", "generic") and mount.kv_version == "2"
    metadata = data.get("metadata")
    return set(data) == {"data", "metadata"} and isinstance(metadata, dict) and _KV2_METADATA_KEYS <= set(metadata)


def _register_values(value: Any) -> None:
    """Register every string inside a response as sensitive, so no message can show it."""
    if isinstance(value, str):
        register_sensitive(value)
    elif isinstance(value, dict):
        for item in value.values():
            _register_values(item)
    elif isinstance(value, list):
        for item in value:
            _register_values(item)


def _mount_of(client: VaultClient, token: str, path: str) -> MountInfo | None:
    try:
        response = client.retrying(
            f"looking up the mount of {path}",
            lambda: client.request("GET", f"sys/internal/ui/mounts/{path}", token=token),
        )
    except VaultResponseError as error:
        log.info("Mount of %s not available to this token (HTTP %d); reading the path as given", path, error.status)
        return None
    data = response.get("data") or {}
    options = data.get("options") or {}
    return MountInfo(
        path=str(data.get("path", "")),
        engine=str(data.get("type", "")),
        kv_version=str(options.get("version", "1") if data.get("type") in ("kv", "generic") else ""),
    )


def _read_failure(request: SecretRequest, api_path: str, error: VaultResponseError) -> InitError:
    where = f"Secret {api_path} (for file {request.file_name})"
    if error.status == 404:
        return InitError(
            ExitCode.SECRET_UNAVAILABLE,
            f"{where} not found. Check the path in [vault_init] secrets or the vault.airflow/secret-"
            f"{request.file_name} annotation, and that the secret exists in this namespace.",
        )
    if error.status == 403:
        return InitError(
            ExitCode.SECRET_UNAVAILABLE,
            f"{where}: permission denied. Check that the policies of the login role grant read on {api_path}.",
        )
    return InitError(
        ExitCode.SECRET_UNAVAILABLE,
        f"{where} could not be read: {error.reason} (HTTP {error.status}). Check the path and its engine.",
    )
