"""The init program's environment, parsed and validated once into a frozen `Settings`."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from airflow_vault_provider import contract
from airflow_vault_provider.init.errors import invalid_setting, register_sensitive

DEFAULT_TIMEOUT_SECONDS = 120.0
DEFAULT_REQUEST_TIMEOUT_SECONDS = 10.0
DEFAULT_JWT_FILE = contract.SA_TOKEN_DIR + "/" + contract.SA_TOKEN_FILE_NAME
DEFAULT_TOKEN_FILE = "token"

_VAULT_PATH_RE = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
_ROLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")
_FILE_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_WRAPPED_WORDS = {"auto": "auto", "true": "wrapped", "false": "plain"}


class SensitiveText:
    """A string that must not be shown: its repr and str hide the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = register_sensitive(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SensitiveText(<redacted>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SensitiveText) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclasses.dataclass(frozen=True)
class SecretRequest:
    """One secret to write: the file name in the output directory, its Vault path, format and key."""

    file_name: str
    path: str
    format: str = "json"
    key: str = ""


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the init program reads from its environment, validated."""

    vault_addr: str
    auth_method: str
    auth_path: str
    output_dir: Path
    namespace: str = ""
    ca_cert: str = ""
    tls_server_name: str = ""
    role: str = ""
    jwt_file: str = DEFAULT_JWT_FILE
    approle_role_id: str = ""
    approle_secret_id: SensitiveText | None = None
    approle_secret_id_file: str = ""
    # "auto", "wrapped" or "plain": see `login.is_wrapping_token` for the automatic rule.
    approle_secret_id_wrapping: str = "auto"
    token_file: str = DEFAULT_TOKEN_FILE
    secrets: tuple[SecretRequest, ...] = ()
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    request_timeout_seconds: float = DEFAULT_REQUEST_TIMEOUT_SECONDS
    termination_log: str = contract.DEFAULT_TERMINATION_LOG

    @property
    def token_path(self) -> Path:
        return self.output_dir / self.token_file


def termination_log_path(environ: Mapping[str, str]) -> str:
    """Return where the failure message goes; read on its own so it works when other settings fail."""
    return environ.get(contract.ENV_TERMINATION_LOG, "").strip() or contract.DEFAULT_TERMINATION_LOG


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Parse the init program's environment; raise `InitError` naming the first invalid variable."""
    env = os.environ if environ is None else environ

    def get(name: str) -> str:
        return env.get(name, "").strip()

    auth_method = _auth_method(get(contract.ENV_AUTH_METHOD))
    auth_path = _vault_path(contract.ENV_AUTH_PATH, get(contract.ENV_AUTH_PATH).strip("/") or auth_method)
    token_file = _file_name(contract.ENV_TOKEN_FILE, get(contract.ENV_TOKEN_FILE) or DEFAULT_TOKEN_FILE)
    timeout = _seconds(contract.ENV_TIMEOUT_SECONDS, get(contract.ENV_TIMEOUT_SECONDS), DEFAULT_TIMEOUT_SECONDS)
    request_timeout = _seconds(
        contract.ENV_REQUEST_TIMEOUT_SECONDS, get(contract.ENV_REQUEST_TIMEOUT_SECONDS), DEFAULT_REQUEST_TIMEOUT_SECONDS
    )

    settings = Settings(
        vault_addr=_vault_addr(get(contract.ENV_VAULT_ADDR)),
        namespace=get(contract.ENV_VAULT_NAMESPACE).strip("/"),
        ca_cert=get(contract.ENV_VAULT_CACERT),
        tls_server_name=_host_name(contract.ENV_TLS_SERVER_NAME, get(contract.ENV_TLS_SERVER_NAME)),
        auth_method=auth_method,
        auth_path=auth_path,
        output_dir=_output_dir(get(contract.ENV_OUTPUT_DIR)),
        token_file=token_file,
        secrets=_secrets(get(contract.ENV_SECRETS), token_file),
        timeout_seconds=timeout,
        request_timeout_seconds=min(request_timeout, timeout),
        termination_log=termination_log_path(env),
    )
    if auth_method in ("kubernetes", "jwt"):
        return dataclasses.replace(
            settings,
            role=_role(get(contract.ENV_ROLE), auth_method),
            jwt_file=get(contract.ENV_JWT_FILE) or DEFAULT_JWT_FILE,
        )
    return _with_approle(settings, env)


def _with_approle(settings: Settings, env: Mapping[str, str]) -> Settings:
    role_id = env.get(contract.ENV_APPROLE_ROLE_ID, "").strip()
    if not role_id:
        raise invalid_setting(
            contract.ENV_APPROLE_ROLE_ID,
            "missing",
            "The approle auth method needs the role id of the AppRole ([vault_init] approle_role_id).",
        )

    # The secret id is never stripped or echoed: it goes to Vault exactly as stored in the Secret,
    # except for the trailing newline that files and `kubectl create secret` often add.
    secret_id = env.get(contract.ENV_APPROLE_SECRET_ID, "").rstrip("\r\n")
    secret_id_file = env.get(contract.ENV_APPROLE_SECRET_ID_FILE, "").strip()
    if secret_id and secret_id_file:
        raise invalid_setting(
            contract.ENV_APPROLE_SECRET_ID_FILE,
            f"set together with {contract.ENV_APPROLE_SECRET_ID}",
            "Give the secret id in one of the two variables only.",
        )
    if not secret_id and not secret_id_file:
        raise invalid_setting(
            contract.ENV_APPROLE_SECRET_ID,
            f"missing, and {contract.ENV_APPROLE_SECRET_ID_FILE} is not set either",
            "Reference the Kubernetes Secret that holds the secret id ([vault_init] approle_secret_id_secret), "
            "and check that the Secret and its key exist.",
        )

    wrapping_word = env.get(contract.ENV_APPROLE_SECRET_ID_WRAPPED, "").strip().lower() or "auto"
    if wrapping_word not in _WRAPPED_WORDS:
        raise invalid_setting(
            contract.ENV_APPROLE_SECRET_ID_WRAPPED,
            f"{wrapping_word!r} is not allowed",
            "Use true (a response-wrapping token), false (a plain secret id) or auto.",
        )
    return dataclasses.replace(
        settings,
        approle_role_id=role_id,
        approle_secret_id=SensitiveText(secret_id) if secret_id else None,
        approle_secret_id_file=secret_id_file,
        approle_secret_id_wrapping=_WRAPPED_WORDS[wrapping_word],
    )


def _vault_addr(value: str) -> str:
    if not value:
        raise invalid_setting(
            contract.ENV_VAULT_ADDR,
            "missing",
            "Set it to Vault's address as seen from the pod, e.g. https://vault.vault.svc:8200.",
        )
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise invalid_setting(
            contract.ENV_VAULT_ADDR,
            f"{value!r} is not an http:// or https:// URL with a host",
            "Use a URL such as https://vault.vault.svc:8200.",
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise invalid_setting(
            contract.ENV_VAULT_ADDR, f"{value!r} has an invalid port", "Use a port from 1 to 65535."
        ) from None
    return value.rstrip("/")


def _auth_method(value: str) -> str:
    method = value or "kubernetes"
    if method not in contract.AUTH_METHODS:
        raise invalid_setting(
            contract.ENV_AUTH_METHOD, f"{value!r} is not supported", f"Use one of {', '.join(contract.AUTH_METHODS)}."
        )
    return method


def _vault_path(variable: str, value: str) -> str:
    if not _VAULT_PATH_RE.match(value):
        raise invalid_setting(
            variable,
            f"{value!r} is not a Vault mount path",
            "Use segments of letters, digits, '.', '_' or '-', e.g. k8s/prod.",
        )
    return value


def _role(value: str, method: str) -> str:
    if not value:
        raise invalid_setting(
            contract.ENV_ROLE,
            "missing",
            f"The {method} auth method needs the Vault role to log in with ([vault_init] role).",
        )
    if not _ROLE_RE.match(value):
        raise invalid_setting(
            contract.ENV_ROLE, f"{value!r} is not a Vault role name", "Use letters, digits, '.', '_', '@' or '-'."
        )
    return value


def _host_name(variable: str, value: str) -> str:
    if value and not _HOST_RE.match(value):
        raise invalid_setting(variable, f"{value!r} is not a host name", "Use the DNS name in Vault's certificate.")
    return value


def _file_name(variable: str, value: str) -> str:
    if not _FILE_NAME_RE.match(value) or value in (".", ".."):
        raise invalid_setting(
            variable, f"{value!r} is not a plain file name", "Use letters, digits, '.', '_' or '-', e.g. token."
        )
    return value


def _output_dir(value: str) -> Path:
    if not value:
        raise invalid_setting(
            contract.ENV_OUTPUT_DIR, "missing", "Set it to the directory of the shared volume, e.g. /vault/secrets."
        )
    if not value.startswith("/"):
        raise invalid_setting(
            contract.ENV_OUTPUT_DIR, f"{value!r} is not an absolute path", "Use an absolute directory path."
        )
    return Path(value)


def _seconds(variable: str, value: str, default: float) -> float:
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise invalid_setting(
            variable, f"{value!r} is not a positive number of seconds", f"Use a number such as {default:g}."
        )
    return seconds


def _secrets(value: str, token_file: str) -> tuple[SecretRequest, ...]:
    variable = contract.ENV_SECRETS
    if not value:
        return ()
    try:
        data = json.loads(value)
    except ValueError as error:
        raise invalid_setting(
            variable,
            f"not valid JSON ({error.__class__.__name__} at position {getattr(error, 'pos', '?')})",
            'Use a JSON object of file name to {"path", "format", "key"}, '
            'e.g. {"db.json": {"path": "secret/data/db"}}.',
        ) from None
    if not isinstance(data, dict):
        raise invalid_setting(
            variable, "not a JSON object", 'Use an object such as {"db.json": {"path": "secret/data/db"}}.'
        )

    reserved = {token_file, contract.TOKEN_INFO_FILE_NAME}
    requests = []
    for name, spec in data.items():
        _file_name(f"{variable} file {name!r}", name)
        if name in reserved:
            raise invalid_setting(
                variable, f"file {name!r} is written by vault-init itself", "Choose another file name for the secret."
            )
        requests.append(_secret_request(name, spec))
    return tuple(requests)


def _secret_request(name: str, spec: Any) -> SecretRequest:
    where = f"{contract.ENV_SECRETS} file {name!r}"
    if isinstance(spec, str):
        spec = {"path": spec}
    if not isinstance(spec, dict):
        raise invalid_setting(where, "not a path or an object", 'Use {"path": ..., "format": ..., "key": ...}.')
    unknown = sorted(set(spec) - {"path", "format", "key"})
    if unknown:
        raise invalid_setting(where, f"unknown fields {unknown}", "Use only path, format and key.")

    path = str(spec.get("path", "")).strip().strip("/")
    if not path or not _VAULT_PATH_RE.match(path):
        raise invalid_setting(
            where, f"path {path!r} is not a Vault path", "Use the secret's path, e.g. secret/data/team/db."
        )
    secret_format = str(spec.get("format", "json"))
    if secret_format not in contract.SECRET_FORMATS:
        raise invalid_setting(
            where, f"format {secret_format!r} is not supported", f"Use one of {', '.join(contract.SECRET_FORMATS)}."
        )
    key = str(spec.get("key", "")).strip()
    if secret_format == "raw" and not key:
        raise invalid_setting(where, "the raw format needs a key", "Name the key whose value the file gets.")
    if key and secret_format != "raw":
        raise invalid_setting(where, f"key {key!r} only applies to the raw format", "Drop the key or use format raw.")
    return SecretRequest(file_name=name, path=path, format=secret_format, key=key)
