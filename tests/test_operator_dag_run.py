"""VaultKubernetesPodOperator in a real DAG run: templated arguments and deferral.

Each run is `dag.test()` in a subprocess with its own AIRFLOW_HOME and SQLite database, so
the task gets a real TaskInstance and template context on both Airflow 2 and 3. Pods go to
a loopback Kubernetes API double. In deferrable mode `dag.test()` runs the real trigger
inline, against the same double, and resumes the task on a fresh operator.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import airflow_vault_provider.example_dags as example_dags
from tests.support.kube_api_server import KubeApiServerDouble
from tests.support.operator_task import (
    NAMESPACE,
    VAULT_ADDR,
    WORKER_IMAGE,
    WORKER_REPOSITORY,
    WORKER_TAG,
    assert_one_vault_init,
    env_of,
    init_container,
    validate,
)

RUN_DAG = Path(__file__).parent / "support" / "run_dag.py"
EXAMPLE_DAG = Path(example_dags.__file__).parent / "example_vault_operator.py"
TEST_DAGS = Path(__file__).parent / "support" / "dags"


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Airflow home with a migrated SQLite database, the operator example DAG and the test DAGs."""
    home = tmp_path_factory.mktemp("dag-run-home")
    (home / "dags").mkdir()
    shutil.copy(EXAMPLE_DAG, home / "dags")
    for dag_file in TEST_DAGS.glob("*.py"):
        shutil.copy(dag_file, home / "dags")
    migrate = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=_airflow_env(home, {}),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return home


def _airflow_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env.update(
        HOME=str(home),
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
        AIRFLOW__VAULT_INIT__VAULT_ADDR=VAULT_ADDR,
        AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_REPOSITORY=WORKER_REPOSITORY,
        AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_TAG=WORKER_TAG,
        **extra,
    )
    return env


def run_dag(
    home: Path, api: KubeApiServerDouble, run_conf: dict[str, str], dag_id: str = "example_vault_operator"
) -> subprocess.CompletedProcess[str]:
    kubeconfig = api.write_kubeconfig(home / "kubeconfig")
    connection = {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig), "namespace": NAMESPACE}}
    env = _airflow_env(home, {"AIRFLOW_CONN_KUBERNETES_DEFAULT": json.dumps(connection)})
    return subprocess.run(
        [sys.executable, str(RUN_DAG), str(home / "dags"), dag_id, json.dumps(run_conf)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_templated_arguments_rendered(airflow_home):
    run_conf = {"vault_role": "etl-writer", "db_secret_path": "secret/data/etl/db-replica"}

    with KubeApiServerDouble() as api:
        result = run_dag(airflow_home, api, run_conf)

    output = result.stdout + result.stderr
    assert "DAG RUN STATE: success" in output, output[-4000:]
    assert len(api.created_pods) == 1
    body = api.created_pods[0]
    validate(body)
    assert_one_vault_init(body)
    annotations = body["metadata"]["annotations"]
    assert annotations["vault.airflow/role"] == "etl-writer"
    assert annotations["vault.airflow/secret-db.json"] == "secret/data/etl/db-replica"
    vault_init = init_container(body)
    assert vault_init["image"] == WORKER_IMAGE
    assert env_of(vault_init)["VAULT_INIT_ROLE"] == "etl-writer"
    assert '"db.json":{"format":"json","path":"secret/data/etl/db-replica"}' in env_of(vault_init)["VAULT_INIT_SECRETS"]
    assert body["metadata"]["labels"]["dag_id"] == "example_vault_operator"


def test_invalid_rendered_role_fails_task(airflow_home):
    with KubeApiServerDouble() as api:
        result = run_dag(airflow_home, api, {"vault_role": "etl writer"})

    output = result.stdout + result.stderr
    assert "DAG RUN STATE: failed" in output, output[-4000:]
    assert "vault_role of task 'read_rendered_secret' (annotation vault.airflow/role)" in output
    assert "'etl writer'" in output
    assert api.created_pods == []


def test_deferrable_run_builds_pod_once(airflow_home):
    with KubeApiServerDouble() as api:
        result = run_dag(airflow_home, api, {"vault_role": "etl-writer"}, dag_id="vault_deferrable")

    output = result.stdout + result.stderr
    assert "DAG RUN STATE: success" in output, output[-4000:]
    assert len(api.created_pods) == 1
    body = api.created_pods[0]
    pod_name = body["metadata"]["name"]
    assert f"Checking pod '{pod_name}'" in output
    assert api.deleted == [pod_name]
    validate(body)
    assert_one_vault_init(body)
    assert env_of(init_container(body))["VAULT_INIT_ROLE"] == "etl-writer"
    assert body["metadata"]["annotations"]["vault.airflow/secret-db.json"] == "secret/data/vault_deferrable/db"


def test_mapped_task_pods(airflow_home):
    with KubeApiServerDouble() as api:
        result = run_dag(airflow_home, api, {}, dag_id="vault_mapped")

    output = result.stdout + result.stderr
    assert "DAG RUN STATE: success" in output, output[-4000:]
    assert sorted(body["metadata"]["labels"]["map_index"] for body in api.created_pods) == ["0", "1"]
    for body in api.created_pods:
        validate(body)
        assert_one_vault_init(body)
        assert env_of(init_container(body))["VAULT_INIT_ROLE"] == "etl-reader"
