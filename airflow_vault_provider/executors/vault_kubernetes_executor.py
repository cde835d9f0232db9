"""`VaultKubernetesExecutor`: the stock KubernetesExecutor, with `vault-init` in every worker pod.

Configure it as `[core] executor`, alone, with an alias (`vault_k8s:<this class path>`), or
in a multi-executor list on Airflow 3. Everything but pod building is the stock executor's.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any, NoReturn

from airflow.providers.cncf.kubernetes.exceptions import PodMutationHookException
from airflow.providers.cncf.kubernetes.executors.kubernetes_executor import KubernetesExecutor

from airflow_vault_provider.config import VaultInitConfig, VaultInitConfigError
from airflow_vault_provider.executors.worker_pod import WorkerPodPreparer


class VaultKubernetesExecutor(KubernetesExecutor):
    """KubernetesExecutor that adds the Vault init container to each worker pod it creates.

    `[vault_init]` is read and validated once, in `start()`; an invalid setting stops the
    executor with the key, the value and the fix. An invalid per-task setting (a
    `vault.airflow/*` annotation from `pod_override` or a per-task pod template) fails only
    that task, the same way the stock executor treats a failing pod mutation hook.
    """

    vault_worker_pods: WorkerPodPreparer | None = None

    def start(self) -> None:
        """Validate `[vault_init]`, start the stock executor, then hook into its pod building."""
        from airflow_vault_provider.executors.scheduler import VaultKubernetesScheduler

        self.vault_worker_pods = self._make_worker_pod_preparer()
        super().start()
        if self.kube_scheduler is None:
            raise RuntimeError("KubernetesExecutor.start() did not create its scheduler.")
        VaultKubernetesScheduler.attach(self.kube_scheduler, self.vault_worker_pods)
        self.log.info(
            "Vault init injection is %s (auth method %s, role %s)",
            "on" if self.vault_worker_pods.config.enabled else "off ([vault_init] enabled = False)",
            self.vault_worker_pods.config.auth_method,
            self.vault_worker_pods.config.role or "-",
        )

    def _make_worker_pod_preparer(self) -> WorkerPodPreparer:
        """Return the preparer for this executor's pods, or stop with one clear message."""
        from airflow.configuration import conf

        from airflow_vault_provider.executors.scheduler import HOOK_POINT, HOOK_POINTS

        if HOOK_POINT is None:
            self._stop(
                "apache-airflow-providers-cncf-kubernetes "
                f"{metadata.version('apache-airflow-providers-cncf-kubernetes')} is not supported: its "
                f"AirflowKubernetesScheduler has none of {', '.join(HOOK_POINTS)}, so worker pods would "
                "start without Vault. Install a release from 10.10 to the newest one this provider lists."
            )

        executor_conf: Any = getattr(self, "conf", None) or conf
        try:
            config = VaultInitConfig.from_airflow_conf(executor_conf)
            if config.enabled and config.inject_by_default:
                config.check_complete()
        except VaultInitConfigError as error:
            self._stop(str(error))

        return WorkerPodPreparer(
            config,
            executors=conf.get("core", "executor", fallback=""),
            failure=PodMutationHookException,
            team_name=getattr(self, "team_name", None),
        )

    def _stop(self, reason: str) -> NoReturn:
        # SystemExit ends the scheduler with this one line instead of a stack trace; the
        # scheduler's own `finally` still calls end() on every executor.
        self.log.error("VaultKubernetesExecutor cannot start: %s", reason)
        raise SystemExit(f"VaultKubernetesExecutor cannot start: {reason}")

    @staticmethod
    def get_cli_commands() -> list[Any]:
        """Return the stock executor's commands plus `airflow vault-init`."""
        from airflow_vault_provider.cli.definition import get_vault_init_cli_commands

        return [*KubernetesExecutor.get_cli_commands(), *get_vault_init_cli_commands()]
