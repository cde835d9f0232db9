"""The volumes `vault-init` and the task containers share."""

from __future__ import annotations

from kubernetes.client import models as k8s

from airflow_vault_provider import contract
from airflow_vault_provider.config import VaultInitConfig
from airflow_vault_provider.injection.models import build

OWNED_VOLUMES = (contract.SECRETS_VOLUME_NAME, contract.SA_TOKEN_VOLUME_NAME, contract.CA_VOLUME_NAME)


def uses_service_account_token(config: VaultInitConfig) -> bool:
    return config.auth_method in ("kubernetes", "jwt")


def vault_volumes(config: VaultInitConfig) -> list[k8s.V1Volume]:
    """Return the volumes the injection adds: secrets, and the identity and CA when needed."""
    volumes = [
        build(
            k8s.V1Volume,
            name=contract.SECRETS_VOLUME_NAME,
            empty_dir=build(k8s.V1EmptyDirVolumeSource, medium="Memory", size_limit=config.volume_size_limit),
        )
    ]

    # The projected token is short-lived and bound to this pod; only vault-init mounts it.
    if uses_service_account_token(config):
        token = build(
            k8s.V1ServiceAccountTokenProjection,
            audience=config.token_audience,
            expiration_seconds=config.token_expiration_seconds,
            path=contract.SA_TOKEN_FILE_NAME,
        )
        volumes.append(
            build(
                k8s.V1Volume,
                name=contract.SA_TOKEN_VOLUME_NAME,
                projected=build(
                    k8s.V1ProjectedVolumeSource,
                    sources=[build(k8s.V1VolumeProjection, service_account_token=token)],
                ),
            )
        )

    if config.ca_cert_secret:
        volumes.append(
            build(
                k8s.V1Volume,
                name=contract.CA_VOLUME_NAME,
                secret=build(
                    k8s.V1SecretVolumeSource,
                    secret_name=config.ca_cert_secret,
                    items=[build(k8s.V1KeyToPath, key=contract.CA_FILE_NAME, path=contract.CA_FILE_NAME)],
                ),
            )
        )
    return volumes


def init_container_mounts(config: VaultInitConfig) -> list[k8s.V1VolumeMount]:
    """Return the mounts of `vault-init`: the secrets volume read-write, the rest read-only."""
    mounts = [build(k8s.V1VolumeMount, name=contract.SECRETS_VOLUME_NAME, mount_path=config.mount_path)]
    if uses_service_account_token(config):
        mounts.append(
            build(
                k8s.V1VolumeMount, name=contract.SA_TOKEN_VOLUME_NAME, mount_path=contract.SA_TOKEN_DIR, read_only=True
            )
        )
    if config.ca_cert_secret:
        mounts.append(
            build(k8s.V1VolumeMount, name=contract.CA_VOLUME_NAME, mount_path=contract.CA_DIR, read_only=True)
        )
    return mounts


def task_container_mounts(config: VaultInitConfig) -> list[k8s.V1VolumeMount]:
    """Return the read-only mounts of a task container: secrets, and the CA bundle if any."""
    mounts = [build(k8s.V1VolumeMount, name=contract.SECRETS_VOLUME_NAME, mount_path=config.mount_path, read_only=True)]
    if config.ca_cert_secret:
        mounts.append(
            build(k8s.V1VolumeMount, name=contract.CA_VOLUME_NAME, mount_path=contract.CA_DIR, read_only=True)
        )
    return mounts


def merge_volumes(existing: list[k8s.V1Volume] | None, ours: list[k8s.V1Volume]) -> list[k8s.V1Volume]:
    """Return ``existing`` without any volume of ours, then ours, so a rerun changes nothing."""
    kept = [volume for volume in existing or () if volume.name not in OWNED_VOLUMES]
    return kept + ours
