"""Fallback entry point: a `pod_mutation_hook` for `airflow_local_settings.py`.

Use it where neither `VaultKubernetesExecutor` nor `VaultKubernetesPodOperator` builds the
pod: the stock KubernetesExecutor, the stock KubernetesPodOperator, other executors that
call Airflow's hook. Airflow calls the hook on the scheduler (executor pods) and on the
worker (operator pods), so `airflow_local_settings.py` must be importable in both.

    # airflow_local_settings.py
    from airflow_vault_provider.mutation import pod_mutation_hook

or, keeping a hook of your own (it runs first, so its annotations count):

    from airflow_vault_provider.mutation import chain_pod_mutation_hooks
    pod_mutation_hook = chain_pod_mutation_hooks(my_pod_mutation_hook)
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from kubernetes.client import models as k8s

from airflow_vault_provider.config import VaultInitConfig, VaultInitConfigError
from airflow_vault_provider.injection import inject_vault_init

__all__ = ["chain_pod_mutation_hooks", "clear_settings_cache", "pod_mutation_hook"]

PodMutationHook = Callable[[k8s.V1Pod], None]

_lock = threading.Lock()
_cached: VaultInitConfig | VaultInitConfigError | None = None


def pod_mutation_hook(pod: k8s.V1Pod) -> None:
    """Add the Vault init container to ``pod`` in place, as Airflow's hook contract requires.

    Idempotent: a pod injected by the executor, the operator or an earlier call, or built
    from a template that already holds `vault-init`, ends with exactly one. Raises
    `TypeError` for anything but a `V1Pod` and `VaultInitConfigError` for invalid settings.
    """
    if not isinstance(pod, k8s.V1Pod):
        kind = type(pod)
        raise TypeError(
            f"airflow_vault_provider.mutation.pod_mutation_hook expects a kubernetes.client.models.V1Pod, "
            f"got {kind.__module__}.{kind.__qualname__}. Pod mutation hooks receive V1Pod objects since "
            "Airflow 2.0; port hooks written for the airflow.contrib Pod class to V1Pod."
        )

    injected = inject_vault_init(pod, _settings())
    if injected is not pod:
        pod.metadata = injected.metadata
        pod.spec = injected.spec


def chain_pod_mutation_hooks(*hooks: PodMutationHook) -> PodMutationHook:
    """Return a hook that runs ``hooks`` in order, then `pod_mutation_hook`.

    Your hooks run first, so the `vault.airflow/*` annotations they set are applied.
    """
    for hook in hooks:
        if not callable(hook):
            raise TypeError(f"chain_pod_mutation_hooks expects callables taking a V1Pod, got {hook!r}.")

    def chained_pod_mutation_hook(pod: k8s.V1Pod) -> None:
        for hook in hooks:
            hook(pod)
        pod_mutation_hook(pod)

    return chained_pod_mutation_hook


def clear_settings_cache() -> None:
    """Forget the cached `[vault_init]` settings, so the next hook call reads them again."""
    global _cached
    with _lock:
        _cached = None


def _settings() -> VaultInitConfig:
    """Return `[vault_init]`, parsed on the first call of this process; an error is kept too."""
    global _cached
    with _lock:
        if _cached is None:
            try:
                _cached = VaultInitConfig.from_airflow_conf()
            except VaultInitConfigError as error:
                _cached = error
        cached = _cached

    if isinstance(cached, VaultInitConfigError):
        raise VaultInitConfigError(
            cached.key,
            cached.value,
            cached.origin,
            f"{cached.fix} The pod mutation hook read [vault_init] once in this process; restart it "
            "after fixing the setting.",
        ) from cached
    return cached
