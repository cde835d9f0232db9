"""Environment variables of `vault-init` (the init program's input) and of the task containers."""

from __future__ import annotations

import json

from kubernetes.client import models as k8s

from airflow_vault_provider import contract
from airflow_vault_provider.config import VaultInitConfig
from airflow_vault_provider.injection.models import build
from airflow_vault_provider.injection.volumes import uses_service_account_token

_CA_PATH = contract.CA_DIR + "/" + contract.CA_FILE_NAME


def _var(name: str, value: str) -> k8s.V1EnvVar:
    return build(k8s.V1EnvVar, name=name, value=value)


def init_container_env(config: VaultInitConfig) -> list[k8s.V1EnvVar]:
    """Return the environment of `vault-init`; secrets enter it only as Secret references."""
    env = [
        _var(contract.ENV_VAULT_ADDR, config.vault_addr),
        _var(contract.ENV_AUTH_METHOD, config.auth_method),
        _var(contract.ENV_AUTH_PATH, config.auth_path),
        _var(contract.ENV_OUTPUT_DIR, config.mount_path),
        _var(contract.ENV_TOKEN_FILE, config.token_file),
        _var(contract.ENV_TIMEOUT_SECONDS, str(config.login_timeout_seconds)),
        # The root filesystem is read-only: Python must not try to write bytecode.
        _var("PYTHONDONTWRITEBYTECODE", "1"),
    ]
    if config.vault_namespace:
        env.append(_var(contract.ENV_VAULT_NAMESPACE, config.vault_namespace))
    if config.ca_cert_secret:
        env.append(_var(contract.ENV_VAULT_CACERT, _CA_PATH))
    if config.tls_server_name:
        env.append(_var(contract.ENV_TLS_SERVER_NAME, config.tls_server_name))
    if uses_service_account_token(config):
        env.append(_var(contract.ENV_ROLE, config.role))
        env.append(_var(contract.ENV_JWT_FILE, contract.SA_TOKEN_DIR + "/" + contract.SA_TOKEN_FILE_NAME))
    if config.auth_method == "approle" and config.approle_secret_id_secret is not None:
        env.append(_var(contract.ENV_APPROLE_ROLE_ID, config.approle_role_id))
        reference = build(
            k8s.V1SecretKeySelector,
            name=config.approle_secret_id_secret.name,
            key=config.approle_secret_id_secret.key,
        )
        env.append(
            build(
                k8s.V1EnvVar,
                name=contract.ENV_APPROLE_SECRET_ID,
                value_from=build(k8s.V1EnvVarSource, secret_key_ref=reference),
            )
        )
    if config.secrets:
        specs = {spec.name: spec.as_env_value() for spec in config.secrets}
        env.append(_var(contract.ENV_SECRETS, json.dumps(specs, sort_keys=True, separators=(",", ":"))))
    return env


def task_container_env(config: VaultInitConfig) -> list[k8s.V1EnvVar]:
    """Return what a task needs to reuse the pod's login: the address and the token file."""
    env = [
        _var(contract.ENV_VAULT_ADDR, config.vault_addr),
        _var(contract.ENV_VAULT_TOKEN_FILE, config.token_path),
    ]
    if config.vault_namespace:
        env.append(_var(contract.ENV_VAULT_NAMESPACE, config.vault_namespace))
    if config.ca_cert_secret:
        env.append(_var(contract.ENV_VAULT_CACERT, _CA_PATH))
    return env


def merge_env(existing: list[k8s.V1EnvVar] | None, ours: list[k8s.V1EnvVar]) -> list[k8s.V1EnvVar]:
    """Replace variables of ours by name where they stand, and append the rest."""
    by_name = {var.name: var for var in ours}
    merged = [by_name.pop(var.name, var) for var in existing or ()]
    return merged + [var for var in ours if var.name in by_name]
