"""Parsers for `[vault_init]` values: raw string and origin in, typed value out.

Each parser raises `VaultInitConfigError` naming the key, the value, where it came from
(a config key or an annotation) and the fix.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from airflow_vault_provider import contract
from airflow_vault_provider.errors import VaultInitConfigError

_BOOL_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_ROLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")
_VAULT_PATH_RE = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
_FILE_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_SECRET_KEY_RE = re.compile(r"^[-._A-Za-z0-9]{1,253}$")
_QUANTITY_RE = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_MIN_TOKEN_EXPIRATION = 600


@dataclasses.dataclass(frozen=True)
class SecretSpec:
    """One secret to render: the file it goes to, its Vault path, format and key."""

    name: str
    path: str
    format: str = "json"
    key: str = ""

    def as_env_value(self) -> dict[str, str]:
        spec = {"path": self.path, "format": self.format}
        if self.key:
            spec["key"] = self.key
        return spec


@dataclasses.dataclass(frozen=True)
class SecretKeyRef:
    """A key of a Kubernetes Secret, referenced from the pod spec by name only."""

    name: str
    key: str


def parse_bool(value: str, origin: str) -> bool:
    word = str(value).strip().lower()
    if word not in _BOOL_WORDS:
        raise VaultInitConfigError(origin.rsplit(" ", 1)[-1], value, origin, 'Use "true" or "false".')
    return _BOOL_WORDS[word]


def _parse_int(minimum: int, fix: str) -> Callable[[str, str], int]:
    def parse(value: str, origin: str) -> int:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise VaultInitConfigError(_key(origin), value, origin, f"Use a whole number; {fix}") from None
        if number < minimum:
            raise VaultInitConfigError(_key(origin), value, origin, f"Use at least {minimum}; {fix}")
        return number

    return parse


def _parse_optional_id(value: str, origin: str) -> int | None:
    text = str(value).strip()
    if not text:
        return None
    try:
        number = int(text)
    except ValueError:
        number = -1
    if number < 0 or (number == 0 and origin.endswith("run_as_user")):
        raise VaultInitConfigError(
            _key(origin),
            value,
            origin,
            "Use a non-negative number (the user id must not be 0: vault-init never runs as "
            "root), or leave it empty to follow the task container.",
        )
    return number


def _parse_url(value: str, origin: str) -> str:
    text = str(value).strip().rstrip("/")
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise VaultInitConfigError(
            _key(origin),
            value,
            origin,
            "Use an http:// or https:// URL with a host, e.g. https://vault.vault.svc:8200.",
        )
    return text


def _parse_choice(choices: tuple[str, ...]) -> Callable[[str, str], str]:
    def parse(value: str, origin: str) -> str:
        text = str(value).strip()
        if text not in choices:
            raise VaultInitConfigError(_key(origin), value, origin, f"Allowed values: {', '.join(choices)}.")
        return text

    return parse


def _parse_pattern(pattern: re.Pattern[str], fix: str) -> Callable[[str, str], str]:
    def parse(value: str, origin: str) -> str:
        text = str(value).strip()
        if text and not pattern.match(text):
            raise VaultInitConfigError(_key(origin), value, origin, fix)
        return text

    return parse


def _parse_auth_path(value: str, origin: str) -> str:
    return _parse_pattern(
        _VAULT_PATH_RE, "Use the auth mount path without slashes at the ends, e.g. kubernetes or k8s/prod."
    )(str(value).strip().strip("/"), origin)


def _parse_secret_ref(value: str, origin: str) -> SecretKeyRef | None:
    text = str(value).strip()
    if not text:
        return None
    name, _, key = text.partition("/")
    if not _DNS_SUBDOMAIN_RE.match(name) or not _SECRET_KEY_RE.match(key):
        raise VaultInitConfigError(
            _key(origin),
            value,
            origin,
            "Use NAME/KEY of a Kubernetes Secret in the pod's namespace, e.g. airflow-approle/secret-id.",
        )
    return SecretKeyRef(name=name, key=key)


def _parse_command(value: str, origin: str) -> tuple[str, ...]:
    try:
        command = json.loads(value)
    except ValueError:
        command = None
    if not isinstance(command, list) or not command or not all(isinstance(part, str) and part for part in command):
        raise VaultInitConfigError(
            _key(origin),
            value,
            origin,
            'Use a JSON list of non-empty strings, e.g. ["python", "-m", "airflow_vault_provider.init"].',
        )
    return tuple(command)


def _parse_mount_path(value: str, origin: str) -> str:
    text = str(value).strip()
    if not text.startswith("/") or text == "/" or ":" in text or "/../" in text + "/":
        raise VaultInitConfigError(
            _key(origin), value, origin, "Use an absolute directory path other than /, e.g. /vault/secrets."
        )
    return text.rstrip("/")


def _parse_file_name(value: str, origin: str) -> str:
    text = str(value).strip()
    if not _FILE_NAME_RE.match(text) or text in (".", ".."):
        raise VaultInitConfigError(
            _key(origin), value, origin, "Use a plain file name of letters, digits, '.', '_' or '-', e.g. token."
        )
    return text


def _parse_secrets(value: str, origin: str) -> tuple[SecretSpec, ...]:
    try:
        data = json.loads(value) if str(value).strip() else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise VaultInitConfigError(
            _key(origin),
            value,
            origin,
            'Use a JSON object of file name to secret path, e.g. {"db.json": "secret/data/db"}.',
        )
    specs = []
    for name, spec in data.items():
        if isinstance(spec, str):
            spec = {"path": spec}
        if not isinstance(spec, dict):
            raise VaultInitConfigError(
                _key(origin),
                value,
                origin,
                f"Secret {name!r}: use a path string or an object with path, format and key.",
            )
        specs.append(secret_spec(name, spec, origin))
    return tuple(specs)


def _parse_target_containers(value: str, origin: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in str(value).split(",") if part.strip())
    if not names or ("all" in names and len(names) > 1) or not all(_DNS_LABEL_RE.match(n) for n in names):
        raise VaultInitConfigError(
            _key(origin),
            value,
            origin,
            "Use base, all, or a comma-separated list of container names, e.g. base,log-shipper.",
        )
    return names


def _parse_resources(value: str, origin: str) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    fix = 'Use a JSON object like {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}.'
    try:
        data = json.loads(value)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not set(data) <= {"requests", "limits"}:
        raise VaultInitConfigError(_key(origin), value, origin, fix)
    sections = []
    for section in ("requests", "limits"):
        amounts = data.get(section, {})
        if not isinstance(amounts, dict):
            raise VaultInitConfigError(_key(origin), value, origin, fix)
        pairs = []
        for resource, amount in sorted(amounts.items()):
            if not isinstance(amount, (str, int)) or not _QUANTITY_RE.match(str(amount)):
                raise VaultInitConfigError(
                    _key(origin),
                    value,
                    origin,
                    f"{section}.{resource} = {amount!r} is not a Kubernetes quantity. {fix}",
                )
            pairs.append((str(resource), str(amount)))
        if pairs:
            sections.append((section, tuple(pairs)))

    # Kubernetes rejects a container whose request is above its limit, at pod creation.
    requests, limits = data.get("requests", {}), data.get("limits", {})
    for resource in sorted(set(requests) & set(limits)):
        if _quantity_value(str(requests[resource])) > _quantity_value(str(limits[resource])):
            raise VaultInitConfigError(
                _key(origin),
                value,
                origin,
                f"requests.{resource} = {requests[resource]!r} is above limits.{resource} = "
                f"{limits[resource]!r}; Kubernetes rejects such a pod. Lower the request or raise the limit.",
            )
    return tuple(sections)


_QUANTITY_FACTORS = {
    "": Decimal(1), "m": Decimal("0.001"), "k": Decimal(10) ** 3, "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9, "T": Decimal(10) ** 12, "P": Decimal(10) ** 15, "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
}  # fmt: skip


def _quantity_value(quantity: str) -> Decimal:
    """Return a quantity already matched by `_QUANTITY_RE` as a plain number."""
    number = quantity.rstrip("kmMGTPEi")
    return Decimal(number) * _QUANTITY_FACTORS[quantity[len(number):]]


def _parse_quantity(value: str, origin: str) -> str:
    text = str(value).strip()
    if not _QUANTITY_RE.match(text) or float(re.sub(r"[^0-9.]", "", text)) <= 0:
        raise VaultInitConfigError(_key(origin), value, origin, "Use a positive Kubernetes quantity, e.g. 1Mi.")
    return text


PARSERS: dict[str, Callable[[str, str], Any]] = {
    "enabled": parse_bool,
    "inject_by_default": parse_bool,
    "vault_addr": _parse_url,
    "vault_namespace": _parse_pattern(_VAULT_PATH_RE, "Use a Vault namespace path, e.g. team-a or admin/team-a."),
    "ca_cert_secret": _parse_pattern(_DNS_SUBDOMAIN_RE, "Use the name of a Kubernetes Secret, e.g. vault-ca."),
    "tls_server_name": _parse_pattern(_HOST_RE, "Use a DNS host name, e.g. vault.example.com."),
    "auth_method": _parse_choice(contract.AUTH_METHODS),
    "auth_path": _parse_auth_path,
    "role": _parse_pattern(
        _ROLE_RE,
        "Use a Vault role name of letters, digits, '_', '.', '@' or '-', starting with a letter or digit.",
    ),
    "token_audience": _parse_pattern(re.compile(r"^\S{1,253}$"), "Use one audience string, e.g. vault."),
    "token_expiration_seconds": _parse_int(_MIN_TOKEN_EXPIRATION, "Kubernetes requires 600 or more."),
    "approle_role_id": _parse_pattern(re.compile(r"^[A-Za-z0-9_.-]{1,256}$"), "Use the AppRole role id."),
    "approle_secret_id_secret": _parse_secret_ref,
    "image": _parse_pattern(re.compile(r"^\S+$"), "Use an image reference without spaces."),
    "image_pull_policy": _parse_choice(_PULL_POLICIES),
    "command": _parse_command,
    "mount_path": _parse_mount_path,
    "token_file": _parse_file_name,
    "secrets": _parse_secrets,
    "init_first": parse_bool,
    "target_containers": _parse_target_containers,
    "resources": _parse_resources,
    "run_as_user": _parse_optional_id,
    "run_as_group": _parse_optional_id,
    "volume_size_limit": _parse_quantity,
    "login_timeout_seconds": _parse_int(1, "it is the init program's deadline in seconds."),
}


def _key(origin: str) -> str:
    return origin.rsplit(" ", 1)[-1]


def secret_spec(name: str, spec: Mapping[str, Any], origin: str) -> SecretSpec:
    where = f"{origin} (secret {name!r})"
    _parse_file_name(name, where)
    unknown = set(spec) - {"path", "format", "key"}
    if unknown:
        raise VaultInitConfigError(
            _key(origin), dict(spec), where, f"Unknown fields {sorted(unknown)}; use path, format and key."
        )
    path = str(spec.get("path", "")).strip().strip("/")
    if not path or not _VAULT_PATH_RE.match(path):
        raise VaultInitConfigError(
            _key(origin), spec.get("path", ""), where, "Use the secret's Vault path, e.g. secret/data/team/db."
        )
    secret_format = str(spec.get("format", "json"))
    if secret_format not in contract.SECRET_FORMATS:
        raise VaultInitConfigError(
            _key(origin), secret_format, where, f"Allowed formats: {', '.join(contract.SECRET_FORMATS)}."
        )
    key = str(spec.get("key", "")).strip()
    if secret_format == "raw" and not key:
        raise VaultInitConfigError(
            _key(origin), dict(spec), where, "The raw format writes one key's value: name it with key."
        )
    if key and secret_format != "raw":
        raise VaultInitConfigError(
            _key(origin), dict(spec), where, "key only applies to the raw format; drop it or use format raw."
        )
    return SecretSpec(name=name, path=path, format=secret_format, key=key)


def check_secret_names(secrets: tuple[SecretSpec, ...], token_file: str, origin: str) -> None:
    reserved = {token_file, contract.TOKEN_INFO_FILE_NAME}
    for spec in secrets:
        if spec.name in reserved:
            raise VaultInitConfigError(
                "secrets",
                spec.name,
                f"{origin} secrets (file {spec.name!r})",
                f"{spec.name} is written by vault-init itself; choose another file name.",
            )
