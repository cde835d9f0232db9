"""`airflow vault-init render`: the worker pod VaultKubernetesExecutor would create for a task.

The pod is built the way the executor builds it: the pod template (the task's own
`pod_template_file` or `[kubernetes_executor] pod_template_file`), PodGenerator with the
task's `pod_override` and Airflow's pod mutation hook, then the executor's Vault injection.
It talks to no cluster and no Vault. The DAG is parsed from its file; on Airflow 3 that
also records it in the metadata database, as every `airflow dags` command does.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Any

from airflow_vault_provider.config import VaultInitConfig, VaultInitConfigError
from airflow_vault_provider.executors.worker_pod import WorkerPodPreparer


def render(args: Any) -> None:
    """Print the worker pod YAML for ``args.dag_id`` / ``args.task_id``, or exit 1 with the reason."""
    import yaml
    from airflow.providers.cncf.kubernetes.exceptions import PodMutationHookException, PodReconciliationError
    from kubernetes.client import ApiClient

    try:
        pod = build_worker_pod(args.dag_id, args.task_id, args.map_index, args.run_id)
    except (VaultInitConfigError, PodMutationHookException, PodReconciliationError) as error:
        cause = error.__cause__ or error
        raise SystemExit(f"Cannot render the worker pod of {args.dag_id}.{args.task_id}: {cause}") from None

    sys.stdout.write(yaml.safe_dump(ApiClient().sanitize_for_serialization(pod), sort_keys=False))


def build_worker_pod(dag_id: str, task_id: str, map_index: int = -1, run_id: str | None = None) -> Any:
    """Return the prepared worker pod for one task instance; raise SystemExit for a missing DAG or task."""
    from airflow.configuration import conf
    from airflow.providers.cncf.kubernetes.exceptions import PodMutationHookException
    from airflow.providers.cncf.kubernetes.executors.kubernetes_executor_utils import get_base_pod_from_template
    from airflow.providers.cncf.kubernetes.kube_config import KubeConfig
    from airflow.providers.cncf.kubernetes.kubernetes_helper_functions import create_unique_id
    from airflow.providers.cncf.kubernetes.pod_generator import PodGenerator, generate_pod_command_args

    config = VaultInitConfig.from_airflow_conf()
    task_instance = _task_instance(dag_id, task_id, map_index, run_id)
    executor_config = task_instance.executor_config or {}
    kube_config = KubeConfig()

    pod = PodGenerator.construct_pod(
        namespace=kube_config.kube_namespace or "default",
        scheduler_job_id="vault-init-render",
        pod_id=create_unique_id(dag_id, task_id),
        dag_id=dag_id,
        task_id=task_id,
        kube_image=kube_config.kube_image,
        try_number=task_instance.try_number,
        map_index=map_index,
        date=None,
        run_id=task_instance.run_id,
        args=generate_pod_command_args(task_instance),
        pod_override_object=PodGenerator.from_obj(executor_config),
        base_worker_pod=get_base_pod_from_template(executor_config.get("pod_template_file"), kube_config),
        with_mutation_hook=True,
    )
    preparer = WorkerPodPreparer(
        config, executors=conf.get("core", "executor", fallback=""), failure=PodMutationHookException
    )
    return preparer.prepare(pod)


def _task_instance(dag_id: str, task_id: str, map_index: int, run_id: str | None) -> Any:
    """Return an unsaved task instance of the DAG file's task, as the scheduler would queue it."""
    from airflow.exceptions import AirflowException
    from airflow.models import DagModel, DagRun, TaskInstance
    from airflow.providers.cncf.kubernetes.version_compat import AIRFLOW_V_3_0_PLUS
    from airflow.utils.types import DagRunType

    now = datetime.now(timezone.utc)
    try:
        if AIRFLOW_V_3_0_PLUS:
            from airflow.utils.cli import get_bagged_dag

            dag = get_bagged_dag(bundle_names=None, dag_id=dag_id)
        else:
            from airflow.utils.cli import get_dag  # type: ignore[attr-defined]

            dag = get_dag(subdir=None, dag_id=dag_id)
    except AirflowException:
        raise SystemExit(
            f"DAG {dag_id!r} not found: it does not exist in the DAGs folder or failed to parse "
            "(see airflow dags list-import-errors)."
        ) from None

    if not dag.has_task(task_id):
        raise SystemExit(
            f"Task {task_id!r} not found in DAG {dag_id!r}. Its tasks are: {', '.join(sorted(dag.task_ids))}."
        )
    task: Any = dag.get_task(task_id)
    dag_model = DagModel(dag_id=dag_id)

    if AIRFLOW_V_3_0_PLUS:
        from airflow.models.serialized_dag import SerializedDagModel

        # The scheduler queues tasks of the serialized DAG that parsing just stored; taking
        # the task from there gives the workload the same DAG id and DAG version.
        serialized = SerializedDagModel.get(dag_id)
        if serialized is None:
            raise SystemExit(f"DAG {dag_id!r} was parsed but not stored in the metadata database; run it again.")
        task = serialized.dag.get_task(task_id)
        run_id = run_id or DagRun.generate_run_id(run_type=DagRunType.MANUAL, logical_date=now, run_after=now)
        dag_run = DagRun(dag_id, run_id=run_id, logical_date=now, run_after=now, run_type=DagRunType.MANUAL)
        dag_model.bundle_name = "dags-folder"
        dag_model.relative_fileloc = dag.relative_fileloc
        task_instance = TaskInstance(
            task, run_id=run_id, dag_version_id=serialized.dag_version_id, map_index=map_index
        )
    else:
        run_id = run_id or DagRun.generate_run_id(DagRunType.MANUAL, now)  # type: ignore[call-arg,misc]
        dag_run = DagRun(dag_id, run_id=run_id, execution_date=now, run_type=DagRunType.MANUAL)  # type: ignore[call-arg]
        task_instance = TaskInstance(task, run_id=run_id, map_index=map_index)  # type: ignore[call-arg]

    task_instance.dag_run = dag_run
    task_instance.dag_model = dag_model
    # The scheduler counts the first try as 1 when it queues the task instance.
    task_instance.try_number = task_instance.try_number or 1
    return task_instance
