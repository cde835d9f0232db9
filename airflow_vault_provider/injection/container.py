"""The `vault-init` init container and its place among the pod's init containers."""

from __future__ import annotations

from kubernetes.client import models as k8s

from airflow_vault_provider import contract
from airflow_vault_provider.config import VaultInitConfig
from airflow_vault_provider.injection.environment import init_container_env
from airflow_vault_provider.injection.models import build
from airflow_vault_provider.injection.volumes import init_container_mounts


def init_container(config: VaultInitConfig) -> k8s.V1Container:
    """Return the `vault-init` container; the caller sets its image and security context per pod."""
    resources = config.resources_dict()
    return build(
        k8s.V1Container,
        name=contract.INIT_CONTAINER_NAME,
        image_pull_policy=config.image_pull_policy,
        command=list(config.command),
        env=init_container_env(config),
        volume_mounts=init_container_mounts(config),
        resources=build(k8s.V1ResourceRequirements, requests=resources.get("requests"), limits=resources.get("limits")),
        termination_message_policy="FallbackToLogsOnError",
    )


def place_init_container(
    existing: list[k8s.V1Container] | None, ours: k8s.V1Container, first: bool
) -> list[k8s.V1Container]:
    """Return the init containers with ours first or last and any older `vault-init` dropped."""
    kept = [container for container in existing or () if container.name != contract.INIT_CONTAINER_NAME]
    return [ours, *kept] if first else [*kept, ours]
