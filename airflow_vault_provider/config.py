"""Settings: `[vault_init]` and `vault.airflow/*` annotations parsed once into one value.

Every later step reads fields of `VaultInitConfig`, and no other module parses raw strings.
Resolution order (later wins): provider defaults, `[vault_init]` with Airflow's own
precedence, pod annotations. Operator arguments arrive as annotations.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from airflow_vault_provider import contract
from airflow_vault_provider.errors import VaultInitConfigError
from airflow_vault_provider.options import DEPLOYMENT_ONLY, OPTIONS, SECTION, SENSITIVE, annotation_for
from airflow_vault_provider.parsers import (
    PARSERS,
    SecretKeyRef,
    SecretSpec,
    check_secret_names,
    parse_bool,
    secret_spec,
)

__all__ = ["SecretKeyRef", "SecretSpec", "VaultInitConfig", "VaultInitConfigError"]

_SECRET_ANNOTATION = contract.ANNOTATION_PREFIX + "secret-"
# Bounds memory when annotations vary without end, for example a templated role per task.
_MAX_CACHED_OVERRIDES = 256


@dataclasses.dataclass(frozen=True)
class VaultInitConfig:
    """Validated, immutable settings of the Vault init container for one pod or deployment."""

    vault_addr: str
    enabled: bool = True
    inject_by_default: bool = True
    vault_namespace: str = ""
    ca_cert_secret: str = ""
    tls_server_name: str = ""
    auth_method: str = "kubernetes"
    auth_path: str = "kubernetes"
    role: str = ""
    token_audience: str = "vault"
    token_expiration_seconds: int = 600
    approle_role_id: str = ""
    approle_secret_id_secret: SecretKeyRef | None = None
    image: str = ""
    image_pull_policy: str = "IfNotPresent"
    command: tuple[str, ...] = ("python", "-m", "airflow_vault_provider.init")
    mount_path: str = "/vault/secrets"
    token_file: str = "token"
    secrets: tuple[SecretSpec, ...] = ()
    init_first: bool = True
    target_containers: tuple[str, ...] = ("base",)
    resources: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
        ("requests", (("cpu", "50m"), ("memory", "64Mi"))),
        ("limits", (("cpu", "500m"), ("memory", "128Mi"))),
    )
    run_as_user: int | None = None
    run_as_group: int | None = None
    volume_size_limit: str = "1Mi"
    login_timeout_seconds: int = 120

    @classmethod
    def from_mapping(cls, raw: Mapping[str, str], origin: str = f"[{SECTION}]") -> VaultInitConfig:
        """Parse `[vault_init]`-style string values. Missing keys take the provider defaults."""
        unknown = sorted(set(raw) - set(OPTIONS))
        if unknown:
            key = unknown[0]
            raise VaultInitConfigError(key, raw[key], f"{origin} {key}", f"Known keys: {', '.join(OPTIONS)}.")
        values = {key: OPTIONS[key][1] for key in OPTIONS}
        values.update(raw)
        parsed = {key: PARSERS[key](values[key], f"{origin} {key}") for key in OPTIONS}
        if not parsed["auth_path"]:
            parsed["auth_path"] = parsed["auth_method"]
        check_secret_names(parsed["secrets"], parsed["token_file"], origin)
        return cls(**parsed)

    @classmethod
    def from_airflow_conf(cls, conf: Any = None) -> VaultInitConfig:
        """Read `[vault_init]` through Airflow's configuration, so its precedence applies.

        Airflow resolves environment variables, `airflow.cfg` and the provider defaults, and
        the `_cmd` and `_secret` forms of the options in `options.SENSITIVE` (Airflow reads
        those forms only for sensitive options). This method only parses the strings.
        """
        if conf is None:
            from airflow.configuration import conf as airflow_conf

            conf = airflow_conf

        _register_sensitive_options(conf)
        raw = {key: conf.get(SECTION, key, fallback=OPTIONS[key][1]) for key in OPTIONS}
        if not raw["image"]:
            raw["image"] = _worker_image(conf)
        return cls.from_mapping(raw)

    def for_pod(self, annotations: Mapping[str, str] | None) -> VaultInitConfig:
        """Return these settings with the pod's `vault.airflow/*` annotations applied."""
        if not annotations:
            return self
        overrides = {
            key: value
            for key, value in annotations.items()
            if key.startswith(contract.ANNOTATION_PREFIX)
            and key not in (contract.ANNOTATION_STATUS, contract.ANNOTATION_CONFIG_HASH)
        }
        overrides.pop(contract.ANNOTATION_INJECT, None)
        if not overrides:
            return self

        # The scheduler resolves the same task annotations for every try and again for its log
        # line, so each distinct set is parsed once per settings value.
        key = tuple(sorted(overrides.items()))
        cache = self._per_pod_cache
        resolved = cache.get(key)
        if resolved is None:
            resolved = self._with_annotations(overrides)
            if len(cache) >= _MAX_CACHED_OVERRIDES:
                cache.clear()
            cache[key] = resolved
        return resolved

    def wants_injection(self, annotations: Mapping[str, str] | None) -> bool:
        """Return True when a pod with these annotations gets the init container."""
        if not self.enabled:
            return False
        value = (annotations or {}).get(contract.ANNOTATION_INJECT)
        if value is None:
            return self.inject_by_default
        return parse_bool(value, f"annotation {contract.ANNOTATION_INJECT}")

    def check_complete(self, origin: str = f"[{SECTION}]") -> None:
        """Raise unless every setting the chosen auth method needs is present."""
        if not self.vault_addr:
            raise VaultInitConfigError(
                "vault_addr",
                "",
                f"{origin} vault_addr",
                "Set it to Vault's address as seen from the pod, e.g. https://vault.vault.svc:8200.",
            )
        if self.auth_method in ("kubernetes", "jwt") and not self.role:
            raise VaultInitConfigError(
                "role",
                "",
                f"{origin} role",
                f"The {self.auth_method} auth method needs a Vault role: set [{SECTION}] role "
                "or the annotation vault.airflow/role.",
            )
        if self.auth_method == "approle":
            if not self.approle_role_id:
                raise VaultInitConfigError(
                    "approle_role_id",
                    "",
                    f"{origin} approle_role_id",
                    "The approle auth method needs the role id of the AppRole.",
                )
            if self.approle_secret_id_secret is None:
                raise VaultInitConfigError(
                    "approle_secret_id_secret",
                    "",
                    f"{origin} approle_secret_id_secret",
                    "The approle auth method needs NAME/KEY of the Kubernetes Secret that holds the secret id.",
                )

    @property
    def token_path(self) -> str:
        """Absolute path of the token file inside the pod."""
        return self.mount_path.rstrip("/") + "/" + self.token_file

    def resources_dict(self) -> dict[str, dict[str, str]]:
        return {section: dict(pairs) for section, pairs in self.resources}

    @cached_property
    def _per_pod_cache(self) -> dict[tuple[tuple[str, str], ...], VaultInitConfig]:
        return {}

    @cached_property
    def config_hash(self) -> str:
        """A short, stable digest of the settings that shape the injected pod.

        The two deployment switches only decide whether a pod is injected, so they are left
        out: the executor, the operator and the hook then agree on the hash of one pod.
        """
        fields = dataclasses.asdict(self)
        for switch in DEPLOYMENT_ONLY:
            fields.pop(switch)
        digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode())
        return digest.hexdigest()[:16]

    def _with_annotations(self, overrides: Mapping[str, str]) -> VaultInitConfig:
        changes: dict[str, Any] = {}
        secret_parts: dict[str, dict[str, str]] = {}
        for annotation, value in overrides.items():
            if annotation.startswith(_SECRET_ANNOTATION):
                _collect_secret_part(annotation, value, secret_parts)
                continue
            key = annotation[len(contract.ANNOTATION_PREFIX) :].replace("-", "_")
            if key not in OPTIONS or key in DEPLOYMENT_ONLY:
                raise VaultInitConfigError(
                    annotation,
                    value,
                    f"annotation {annotation}",
                    f"Unknown key under {contract.ANNOTATION_PREFIX}. Known: "
                    f"{', '.join(_ANNOTATION_KEYS)}, and secret-<file>[-format|-key].",
                )
            changes[key] = PARSERS[key](value, f"annotation {annotation}")

        if changes.get("auth_method") and "auth_path" not in changes and self.auth_path == self.auth_method:
            changes["auth_path"] = changes["auth_method"]
        if "auth_path" in changes and not changes["auth_path"]:
            changes["auth_path"] = changes.get("auth_method", self.auth_method)

        if secret_parts:
            merged = {spec.name: spec for spec in changes.get("secrets", self.secrets)}
            for name, parts in secret_parts.items():
                merged[name] = _secret_from_annotations(name, parts)
            changes["secrets"] = tuple(merged.values())
            check_secret_names(
                changes["secrets"], changes.get("token_file", self.token_file), "annotation vault.airflow/"
            )
        return dataclasses.replace(self, **changes)


_ANNOTATION_KEYS = (
    *(annotation_for(key) for key in OPTIONS if key not in DEPLOYMENT_ONLY),
    contract.ANNOTATION_INJECT,
)


def _register_sensitive_options(conf: Any) -> None:
    # Airflow 2.11 caches its set of sensitive options before it loads the providers'
    # configuration, so ours are missing there and their _cmd and _secret forms are ignored.
    sensitive = getattr(conf, "sensitive_config_values", None)
    if isinstance(sensitive, set):
        sensitive.update((SECTION, key) for key in SENSITIVE)


def _worker_image(conf: Any) -> str:
    repository = conf.get("kubernetes_executor", "worker_container_repository", fallback="")
    tag = conf.get("kubernetes_executor", "worker_container_tag", fallback="")
    if repository and tag:
        return f"{repository}:{tag}"
    return repository or ""


def _collect_secret_part(annotation: str, value: str, parts: dict[str, dict[str, str]]) -> None:
    rest = annotation[len(_SECRET_ANNOTATION) :]
    for suffix in ("-format", "-key"):
        if rest.endswith(suffix):
            parts.setdefault(rest[: -len(suffix)], {})[suffix[1:]] = value
            return
    parts.setdefault(rest, {})["path"] = value


def _secret_from_annotations(name: str, parts: Mapping[str, str]) -> SecretSpec:
    origin = f"annotation {_SECRET_ANNOTATION}{name}"
    if "path" not in parts:
        raise VaultInitConfigError(
            f"{_SECRET_ANNOTATION}{name}",
            "",
            origin,
            f"A -format or -key annotation needs the secret's path in {_SECRET_ANNOTATION}{name}.",
        )
    return secret_spec(name, parts, origin)
