"""Vault arguments of `VaultKubernetesPodOperator`, turned into `vault.airflow/*` annotations.

The operator writes its arguments onto the pod as annotations, so the executor, the
mutation hook and the operator all read one source through `VaultInitConfig.for_pod`.
This module only builds and checks those annotations; it never reads Airflow's config.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from airflow_vault_provider import contract
from airflow_vault_provider.config import VaultInitConfig, VaultInitConfigError
from airflow_vault_provider.options import DEPLOYMENT_ONLY, OPTIONS, annotation_for

# Jinja's default delimiters. A value containing one is rendered at task start, so its check waits.
_TEMPLATE_MARKERS = ("{{", "{%", "{#")

# The name part of an annotation key: at most 63 characters, alphanumeric at both ends.
_ANNOTATION_NAME_RE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_SECRET_PREFIX = contract.ANNOTATION_PREFIX + "secret-"
_SECRET_SUFFIXES = ("-format", "-key")

# Only for parsing: no pod is built and no network is used with this address.
_PARSE_CHECK_CONFIG = VaultInitConfig(vault_addr="https://parse-check.invalid")


def is_templated(value: object) -> bool:
    """Return True when ``value``, or any string inside it, still contains a Jinja expression."""
    if isinstance(value, str):
        return any(marker in value for marker in _TEMPLATE_MARKERS)
    if isinstance(value, Mapping):
        return any(is_templated(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_templated(item) for item in value)
    return False


def vault_annotations(
    *,
    role: str | None,
    secrets: Mapping[str, Any] | str | None,
    auth_method: str | None,
    inject: bool,
    settings: Mapping[str, Any] | None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Build the annotations for the operator's Vault arguments.

    Returns the annotations and, for each one, the argument it came from, so an error can
    name the argument the DAG author wrote. Explicit arguments win over `settings`.
    """
    if not isinstance(inject, bool):
        raise VaultInitConfigError(
            "vault_inject", inject, "argument vault_inject", "Use True or False."
        )
    annotations = {contract.ANNOTATION_INJECT: "true" if inject else "false"}
    sources = {contract.ANNOTATION_INJECT: "vault_inject"}

    for key, value in _settings_items(settings):
        annotation = annotation_for(key)
        annotations[annotation] = _annotation_value(key, value)
        sources[annotation] = f"vault_settings[{key!r}]"

    for key, argument, value in (("role", "vault_role", role), ("auth_method", "vault_auth_method", auth_method)):
        if value is None:
            continue
        if not isinstance(value, str):
            raise VaultInitConfigError(key, value, f"argument {argument}", "Use a string.")
        annotation = annotation_for(key)
        if annotation in annotations:
            raise VaultInitConfigError(
                key, value, f"argument {argument}",
                f"{key} is also set in vault_settings; set it in one place only.",
            )
        annotations[annotation] = value
        sources[annotation] = argument

    for annotation, value in _secret_annotations(secrets).items():
        annotations[annotation] = value
        sources[annotation] = "vault_secrets"
    return annotations, sources


def check_annotations(annotations: Mapping[str, str], sources: Mapping[str, str], task_id: str) -> None:
    """Parse ``annotations`` as the injector will, and name the argument on failure.

    Parsing runs against a fixed address and no Vault is contacted, so this is safe at DAG
    parse time. Settings the deployment must still supply (such as the role) are not required.
    """
    try:
        _PARSE_CHECK_CONFIG.for_pod(annotations)
    except VaultInitConfigError as error:
        argument = sources.get(error.key) or _argument_for_key(error.key)
        raise VaultInitConfigError(
            error.key, error.value, f"{argument} of task {task_id!r} ({error.origin})", error.fix
        ) from None


def _settings_items(settings: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    if settings is None:
        return []
    if not isinstance(settings, Mapping):
        raise VaultInitConfigError(
            "vault_settings", settings, "argument vault_settings",
            'Use a mapping of [vault_init] keys to values, e.g. {"token_file": "vault-token"}.',
        )
    items = []
    for key, value in settings.items():
        if key in DEPLOYMENT_ONLY or key not in OPTIONS:
            allowed = ", ".join(name for name in OPTIONS if name not in DEPLOYMENT_ONLY)
            raise VaultInitConfigError(
                "vault_settings", key, f"argument vault_settings key {key!r}",
                f"Only the deployment sets enabled and inject_by_default. Allowed keys: {allowed}.",
            )
        items.append((key, value))
    return items


def _annotation_value(key: str, value: Any) -> str:
    """Write a setting as the string `[vault_init]` would hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, (Mapping, list, tuple)):
        return json.dumps(value, sort_keys=isinstance(value, Mapping))
    raise VaultInitConfigError(
        key, value, f"argument vault_settings key {key!r}",
        "Use a string, a number, a boolean, or a list or mapping for the JSON-valued keys.",
    )


def _secret_annotations(secrets: Mapping[str, Any] | str | None) -> dict[str, str]:
    """Write each secret as `secret-<file>` (path) plus optional `-format` and `-key` annotations.

    Per-file annotations merge with `[vault_init] secrets` file by file, which is what a
    task adding its own files expects.
    """
    if secrets is None:
        return {}
    if isinstance(secrets, str):
        secrets = _secrets_from_json(secrets)
    if not isinstance(secrets, Mapping):
        raise VaultInitConfigError(
            "vault_secrets", secrets, "argument vault_secrets",
            'Use a mapping of file name to secret path, e.g. {"db.json": "secret/data/team/db"}.',
        )

    annotations = {}
    for name, spec in secrets.items():
        _check_secret_file_name(name)
        annotation = _SECRET_PREFIX + name
        if isinstance(spec, str):
            annotations[annotation] = spec
            continue
        if not isinstance(spec, Mapping) or "path" not in spec:
            raise VaultInitConfigError(
                "vault_secrets", {name: spec}, f"argument vault_secrets (file {name!r})",
                'Use a path string, or a mapping with path, format and key, e.g. '
                '{"path": "secret/data/team/api", "format": "raw", "key": "token"}.',
            )
        unknown = sorted(set(spec) - {"path", "format", "key"})
        if unknown:
            raise VaultInitConfigError(
                "vault_secrets", {name: dict(spec)}, f"argument vault_secrets (file {name!r})",
                f"Unknown fields {unknown}; use path, format and key.",
            )
        annotations[annotation] = str(spec["path"])
        for field in ("format", "key"):
            if spec.get(field):
                annotations[f"{annotation}-{field}"] = str(spec[field])
    return annotations


def _secrets_from_json(text: str) -> Mapping[str, Any]:
    # A rendered template yields a string; a JSON object in it is accepted as the mapping.
    try:
        secrets = json.loads(text)
    except ValueError:
        secrets = None
    if not isinstance(secrets, Mapping):
        raise VaultInitConfigError(
            "vault_secrets", text, "argument vault_secrets",
            'Use a mapping (or a template rendering to a JSON object) of file name to secret path, '
            'e.g. {"db.json": "secret/data/team/db"}.',
        )
    return secrets


def _check_secret_file_name(name: object) -> None:
    # The file name becomes part of an annotation key, which Kubernetes limits, and a name
    # ending in -format or -key would read as the format or key of another file.
    if (
        not isinstance(name, str)
        or not _ANNOTATION_NAME_RE.match(f"secret-{name}-format")
        or name.endswith(_SECRET_SUFFIXES)
    ):
        raise VaultInitConfigError(
            "vault_secrets", name, "argument vault_secrets (file name)",
            "Use a file name of at most 49 letters, digits, '.', '_' or '-' that starts and ends with "
            "a letter or digit and does not end in -format or -key, e.g. db.json or api-key.txt.",
        )


def _argument_for_key(key: str) -> str:
    if key.startswith(_SECRET_PREFIX) or key == "secrets":
        return "vault_secrets"
    return "vault_settings"
