"""The pure injection core: the only code that edits pods.

`inject_vault_init` never changes the pod it is given. It returns a new pod that shares
every untouched part with the old one and replaces the parts it edits, so callers that
must edit in place (the mutation hook) copy the new metadata and spec back.
"""

from __future__ import annotations

from kubernetes.client import models as k8s

from airflow_vault_provider import contract
from airflow_vault_provider.config import VaultInitConfig, VaultInitConfigError
from airflow_vault_provider.injection.container import place_init_container
from airflow_vault_provider.injection.environment import merge_env
from airflow_vault_provider.injection.models import shallow_copy
from airflow_vault_provider.injection.pieces import Pieces, pieces_for
from airflow_vault_provider.injection.security import init_user_and_group
from airflow_vault_provider.injection.volumes import OWNED_VOLUMES, merge_volumes

__all__ = ["inject_vault_init", "is_injected", "pod_settings"]

# The label PodGenerator puts on every KubernetesExecutor worker pod.
_WORKER_POD_LABEL = "kubernetes_executor"
_BASE_CONTAINER_NAME = "base"


def is_injected(pod: k8s.V1Pod) -> bool:
    """Return True when ``pod`` is marked injected and still contains `vault-init` and its volume."""
    annotations = (pod.metadata.annotations if pod.metadata else None) or {}
    if annotations.get(contract.ANNOTATION_STATUS) != contract.STATUS_INJECTED or pod.spec is None:
        return False
    has_container = any(c.name == contract.INIT_CONTAINER_NAME for c in pod.spec.init_containers or ())
    has_volume = any(v.name == contract.SECRETS_VOLUME_NAME for v in pod.spec.volumes or ())
    return has_container and has_volume


def pod_settings(pod: k8s.V1Pod, config: VaultInitConfig) -> VaultInitConfig | None:
    """Return the settings for ``pod`` after its annotations, or None if it opts out."""
    annotations = pod.metadata.annotations if pod.metadata else None
    if not config.wants_injection(annotations):
        return None
    settings = config.for_pod(annotations)
    settings.check_complete(origin=f"for pod {_pod_name(pod)}:")
    return settings


def inject_vault_init(pod: k8s.V1Pod, config: VaultInitConfig) -> k8s.V1Pod:
    """Return ``pod`` with the Vault init container, volumes, mounts, env and marks added.

    Idempotent: a pod injected with the same settings comes back unchanged. Any other pod
    that already has a `vault-init` container or one of our volumes (from a template, or
    a saved copy of a pod injected with other settings) ends with exactly one of each,
    built from ``config``. Raises `VaultInitConfigError` when the pod's own annotations
    are invalid.
    """
    if pod.spec is None or not pod.spec.containers:
        return pod
    settings = pod_settings(pod, config)
    if settings is None or _injected_with(pod, settings):
        return pod

    spec = shallow_copy(pod.spec)
    targets = _target_indexes(spec.containers, settings, pod)
    task_container = spec.containers[targets[0]]
    image = settings.image or _worker_image(pod, task_container)
    pieces = pieces_for(settings)

    # Edit copies of the containers we touch; the others stay shared with the input pod.
    containers = list(spec.containers)
    for index in targets:
        containers[index] = _with_vault_access(containers[index], settings, pieces, pod)
    spec.containers = containers

    user, group = init_user_and_group(settings, pod, task_container)
    init = pieces.new_init_container(image, user, group)
    spec.init_containers = place_init_container(spec.init_containers, init, settings.init_first)
    spec.volumes = merge_volumes(spec.volumes, pieces.new_volumes())

    metadata = shallow_copy(pod.metadata) if pod.metadata else k8s.V1ObjectMeta()
    metadata.annotations = {
        **(metadata.annotations or {}),
        contract.ANNOTATION_STATUS: contract.STATUS_INJECTED,
        contract.ANNOTATION_CONFIG_HASH: settings.config_hash,
    }

    injected = shallow_copy(pod)
    injected.metadata = metadata
    injected.spec = spec
    return injected


def _injected_with(pod: k8s.V1Pod, settings: VaultInitConfig) -> bool:
    annotations = pod.metadata.annotations or {}
    return is_injected(pod) and annotations.get(contract.ANNOTATION_CONFIG_HASH) == settings.config_hash


def _target_indexes(containers: list[k8s.V1Container], settings: VaultInitConfig, pod: k8s.V1Pod) -> list[int]:
    """Return the indexes of the containers that get the volume and env, task container first."""
    names = [container.name for container in containers]
    base = names.index(_BASE_CONTAINER_NAME) if _BASE_CONTAINER_NAME in names else 0
    if settings.target_containers == ("all",):
        return [base, *(index for index in range(len(names)) if index != base)]

    indexes = []
    for wanted in settings.target_containers:
        if wanted == _BASE_CONTAINER_NAME:
            indexes.append(base)
        elif wanted in names:
            indexes.append(names.index(wanted))
        else:
            raise VaultInitConfigError(
                "target_containers",
                ",".join(settings.target_containers),
                f"for pod {_pod_name(pod)}: target_containers",
                f"The pod has no container named {wanted!r}; its containers are {', '.join(names)}.",
            )
    return list(dict.fromkeys(indexes))


def _with_vault_access(
    container: k8s.V1Container, settings: VaultInitConfig, pieces: Pieces, pod: k8s.V1Pod
) -> k8s.V1Container:
    copied = shallow_copy(container)
    ours = pieces.new_task_mounts()
    kept = [mount for mount in container.volume_mounts or () if mount.name not in OWNED_VOLUMES]
    taken = {mount.mount_path.rstrip("/") for mount in kept}
    for mount in ours:
        if mount.mount_path in taken:
            raise VaultInitConfigError(
                "mount_path",
                mount.mount_path,
                f"for pod {_pod_name(pod)}: mount_path",
                f"Container {container.name!r} already mounts another volume there; choose a free path.",
            )
    copied.volume_mounts = kept + ours
    copied.env = merge_env(container.env, pieces.new_task_env())
    return copied


def _worker_image(pod: k8s.V1Pod, task_container: k8s.V1Container) -> str:
    """Return the Airflow worker image when the pod is an executor worker, else fail."""
    labels = (pod.metadata.labels if pod.metadata else None) or {}
    is_worker = str(labels.get(_WORKER_POD_LABEL, "")).lower() == "true"
    if is_worker and task_container.image:
        return task_container.image
    if is_worker:
        raise VaultInitConfigError(
            "image",
            "",
            f"for pod {_pod_name(pod)}: [vault_init] image",
            f"The worker pod's container {task_container.name!r} has no image either: set "
            "[kubernetes_executor] worker_container_repository and worker_container_tag, an image "
            "in the pod template, or [vault_init] image.",
        )
    raise VaultInitConfigError(
        "image",
        "",
        f"for pod {_pod_name(pod)}: [vault_init] image",
        "This pod is not a KubernetesExecutor worker, so its task image need not contain this "
        "provider. Set [vault_init] image, or [kubernetes_executor] worker_container_repository "
        "and worker_container_tag, to an image that has airflow-vault-provider installed.",
    )


def _pod_name(pod: k8s.V1Pod) -> str:
    metadata = pod.metadata
    if metadata is None or not metadata.name:
        return "<unnamed>"
    return f"{metadata.namespace or 'default'}/{metadata.name}"
