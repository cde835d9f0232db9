"""The pod pieces an injection adds, built once per settings and cloned for each pod."""

from __future__ import annotations

import threading

from kubernetes.client import models as k8s

from airflow_vault_provider.config import VaultInitConfig
from airflow_vault_provider.injection.container import init_container
from airflow_vault_provider.injection.environment import task_container_env
from airflow_vault_provider.injection.models import Prototype
from airflow_vault_provider.injection.security import init_security_context
from airflow_vault_provider.injection.volumes import task_container_mounts, vault_volumes

# Settings differ per pod only through annotations, so a deployment has few distinct values.
# The limit bounds memory when annotations vary without end (for example templated roles).
_MAX_CACHED_SETTINGS = 256


class Pieces:
    """Prototypes of every piece for one settings value; each `new_*` returns fresh models."""

    def __init__(self, settings: VaultInitConfig) -> None:
        self._init_container = Prototype(init_container(settings))
        self._volumes = [Prototype(volume) for volume in vault_volumes(settings)]
        self._task_env = [Prototype(var) for var in task_container_env(settings)]
        self._task_mounts = [Prototype(mount) for mount in task_container_mounts(settings)]
        self._security: dict[tuple[int | None, int | None], Prototype[k8s.V1SecurityContext]] = {}

    def new_init_container(self, image: str, user: int | None, group: int | None) -> k8s.V1Container:
        container = self._init_container.new()
        container.image = image
        security = self._security.get((user, group))
        if security is None:
            security = self._security[(user, group)] = Prototype(init_security_context(user, group))
        container.security_context = security.new()
        return container

    def new_volumes(self) -> list[k8s.V1Volume]:
        return [volume.new() for volume in self._volumes]

    def new_task_env(self) -> list[k8s.V1EnvVar]:
        return [var.new() for var in self._task_env]

    def new_task_mounts(self) -> list[k8s.V1VolumeMount]:
        return [mount.new() for mount in self._task_mounts]


_cache: dict[str, Pieces] = {}
_cache_lock = threading.Lock()


def pieces_for(settings: VaultInitConfig) -> Pieces:
    """Return the cached pieces of ``settings``, building them on first use."""
    key = settings.config_hash
    found = _cache.get(key)
    if found is not None:
        return found

    built = Pieces(settings)
    with _cache_lock:
        if len(_cache) >= _MAX_CACHED_SETTINGS:
            _cache.clear()
        _cache[key] = built
    return built
