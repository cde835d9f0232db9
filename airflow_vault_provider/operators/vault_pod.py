"""`VaultKubernetesPodOperator`: a KubernetesPodOperator whose pod gets a Vault token.

The Vault arguments become `vault.airflow/*` annotations on the pod, and the pod is then
passed through `inject_vault_init`, the same code the executor and the mutation hook use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.common.compat.sdk import Stats
from kubernetes.client import models as k8s

from airflow_vault_provider import contract
from airflow_vault_provider.config import VaultInitConfig, VaultInitConfigError
from airflow_vault_provider.injection import inject_vault_init, is_injected
from airflow_vault_provider.operators.vault_arguments import check_annotations, is_templated, vault_annotations

__all__ = ["VaultKubernetesPodOperator"]


class VaultKubernetesPodOperator(KubernetesPodOperator):
    """Run a task in a Kubernetes pod that logs in to Vault before the task starts.

    Takes every argument of `KubernetesPodOperator`, plus:

    :param vault_role: Vault role for the `kubernetes` and `jwt` auth methods. (templated)
    :param vault_secrets: secrets to render into files next to the token: a mapping of file
        name to a secret path, or to a mapping with ``path``, ``format`` (``json``, ``env``
        or ``raw``) and ``key`` (for ``raw``). Merged file by file with ``[vault_init] secrets``.
        (templated)
    :param vault_auth_method: ``kubernetes``, ``jwt`` or ``approle``; default ``[vault_init] auth_method``.
    :param vault_inject: add the `vault-init` container. When False the pod is annotated
        ``vault.airflow/inject: "false"``, so the mutation hook leaves it alone too.
    :param vault_settings: other ``[vault_init]`` keys to override for this task, such as
        ``{"token_file": "vault-token"}``; every key but ``enabled`` and ``inject_by_default``.

    The operator injects whenever ``vault_inject`` is True, regardless of ``[vault_init] enabled``
    and ``inject_by_default``, which switch only the executor and the mutation hook.
    """

    template_fields: Sequence[str] = (*KubernetesPodOperator.template_fields, "vault_role", "vault_secrets")

    def __init__(
        self,
        *,
        vault_role: str | None = None,
        vault_secrets: Mapping[str, Any] | str | None = None,
        vault_auth_method: str | None = None,
        vault_inject: bool = True,
        vault_settings: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.vault_role = vault_role
        self.vault_secrets = vault_secrets
        self.vault_auth_method = vault_auth_method
        self.vault_inject = vault_inject
        self.vault_settings = dict(vault_settings) if vault_settings is not None else None

        # Check what is known now, so a bad static value fails at DAG parse. Templated
        # values are checked once rendered, when the pod is built.
        self._check_vault_arguments(rendered=False)

    def build_pod_request_obj(self, context: Any = None, **kwargs: Any) -> k8s.V1Pod:
        """Build the parent's pod with the Vault annotations, then add `vault-init` to it.

        The annotations are in place before the parent runs `pod_mutation_hook`, so a hook
        installed as well injects with the same settings, and `inject_vault_init` then
        returns its pod unchanged.
        """
        annotations = self._check_vault_arguments(rendered=True)
        config = VaultInitConfig.from_airflow_conf() if self.vault_inject else None

        user_annotations = self.annotations
        self.annotations = {**(user_annotations or {}), **annotations}
        try:
            pod = super().build_pod_request_obj(context, **kwargs)
        finally:
            self.annotations = user_annotations

        if config is None:
            return pod
        task_key = f"{self.dag_id}.{self.task_id}"
        already_injected = is_injected(pod)

        # [vault_init] enabled switches off the executor and the hook, not an explicit operator.
        tags = {"namespace": pod.metadata.namespace or "", "entry_point": "operator"}
        try:
            injected = inject_vault_init(pod, dataclasses.replace(config, enabled=True))
        except VaultInitConfigError:
            Stats.incr("vault_init.injection_failed", tags=tags)
            raise

        if already_injected and injected is pod:
            self.log.info(
                "Pod %s/%s of task %s already has %s with these settings (added by pod_mutation_hook).",
                pod.metadata.namespace, pod.metadata.name, task_key, contract.INIT_CONTAINER_NAME,
            )
            return pod

        Stats.incr("vault_init.pods_injected", tags=tags)
        self.log.info(
            "Added %s to pod %s/%s of task %s (Vault config hash %s).",
            contract.INIT_CONTAINER_NAME,
            injected.metadata.namespace,
            injected.metadata.name,
            task_key,
            injected.metadata.annotations.get(contract.ANNOTATION_CONFIG_HASH),
        )
        return injected

    def _check_vault_arguments(self, *, rendered: bool) -> dict[str, str]:
        """Return the Vault annotations after checking them; before rendering, skip templated values."""
        role = self.vault_role
        secrets = self.vault_secrets
        if not rendered:
            if is_templated(role):
                role = None
            if isinstance(secrets, str) and is_templated(secrets):
                secrets = None
            elif isinstance(secrets, Mapping):
                secrets = {name: spec for name, spec in secrets.items() if not is_templated(spec)}

        annotations, sources = vault_annotations(
            role=role,
            secrets=secrets,
            auth_method=self.vault_auth_method,
            inject=self.vault_inject,
            settings=self.vault_settings,
        )
        check_annotations(annotations, sources, self.task_id)
        return annotations
