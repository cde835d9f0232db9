"""The security context of `vault-init`: hardened, and able to share files with the task."""

from __future__ import annotations

from kubernetes.client import models as k8s

from airflow_vault_provider.config import VaultInitConfig
from airflow_vault_provider.injection.models import build


def _first_set(*values: int | None) -> int | None:
    return next((value for value in values if value is not None), None)


def init_user_and_group(
    config: VaultInitConfig, pod: k8s.V1Pod, task_container: k8s.V1Container
) -> tuple[int | None, int | None]:
    """Return the user and group ids `vault-init` runs as; None leaves the image's own.

    The token file is written with mode 0440, so `vault-init` takes the task container's
    user and group, and the task can read what it wrote. A task running as root reads it
    anyway; then `vault-init` keeps the image's own non-root user.
    """
    task = task_container.security_context
    pod_level = pod.spec.security_context
    user = _first_set(
        config.run_as_user,
        task.run_as_user if task else None,
        pod_level.run_as_user if pod_level else None,
    )
    group = _first_set(
        config.run_as_group,
        task.run_as_group if task else None,
        pod_level.run_as_group if pod_level else None,
    )
    if user == 0:
        user = None
    return user, group


def init_security_context(user: int | None, group: int | None) -> k8s.V1SecurityContext:
    """Return a non-root, read-only, capability-free context with the given ids."""
    return build(
        k8s.V1SecurityContext,
        run_as_non_root=True,
        run_as_user=user,
        run_as_group=group,
        read_only_root_filesystem=True,
        allow_privilege_escalation=False,
        capabilities=build(k8s.V1Capabilities, drop=["ALL"]),
        seccomp_profile=build(k8s.V1SeccompProfile, type="RuntimeDefault"),
    )
