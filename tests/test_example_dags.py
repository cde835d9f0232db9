"""The example DAGs shipped in airflow_vault_provider/example_dags parse with a real DagBag."""

from __future__ import annotations

import warnings
from pathlib import Path

import airflow_vault_provider
import airflow_vault_provider.example_dags as example_dags

try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 2
    from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

EXAMPLE_DIR = Path(example_dags.__file__).parent
PROVIDER_DIR = Path(airflow_vault_provider.__file__).parent


def dag_bag(folder: Path) -> DagBag:
    # Airflow 2's DagBag would also load Airflow's own example DAGs unless configured not to.
    if "include_examples" in DagBag.__init__.__code__.co_varnames:
        return DagBag(dag_folder=str(folder), include_examples=False)
    return DagBag(dag_folder=str(folder))


def parse_examples() -> tuple[DagBag, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bag = dag_bag(EXAMPLE_DIR)
    return bag, caught


def test_examples_parse():
    bag, _ = parse_examples()

    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == ["example_vault_executor", "example_vault_hook", "example_vault_operator"]


def test_examples_raise_no_provider_warnings():
    bag, caught = parse_examples()

    ours = [str(warning.message) for warning in caught if Path(warning.filename).is_relative_to(PROVIDER_DIR)]
    assert ours == []
    assert getattr(bag, "captured_warnings", {}) == {}


def test_operator_example_tasks():
    bag, _ = parse_examples()

    task = bag.dags["example_vault_operator"].get_task("read_rendered_secret")

    assert type(task).__name__ == "VaultKubernetesPodOperator"
    assert task.vault_role == "{{ params.vault_role }}"


def test_executor_example_pod_override():
    bag, _ = parse_examples()

    task = bag.dags["example_vault_executor"].get_task("read_with_pod_token")
    annotations = task.executor_config["pod_override"].metadata.annotations

    assert annotations["vault.airflow/role"] == "etl-reader"
    assert annotations["vault.airflow/secret-db.json"] == "secret/data/etl/db"


def test_bad_static_argument_is_import_error(tmp_path):
    dag_file = tmp_path / "bad_vault_role.py"
    dag_file.write_text(
        "import datetime\n"
        "from airflow_vault_provider.operators.vault_pod import VaultKubernetesPodOperator\n"
        "try:\n    from airflow.sdk import DAG\nexcept ImportError:\n    from airflow import DAG\n"
        "with DAG(dag_id='bad_vault_role', schedule=None, start_date=datetime.datetime(2026, 1, 1)):\n"
        "    VaultKubernetesPodOperator(task_id='fetch', image='python:3.12-slim', vault_role='etl reader')\n"
    )
    bag = dag_bag(tmp_path)

    assert bag.dag_ids == []
    errors = "\n".join(bag.import_errors.values())
    assert "vault_role of task 'fetch' (annotation vault.airflow/role): 'etl reader'" in errors
