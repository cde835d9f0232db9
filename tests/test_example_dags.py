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


def parse_examples() -> tuple[DagBag, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if "include_examples" in DagBag.__init__.__code__.co_varnames:
            bag = DagBag(dag_folder=str(EXAMPLE_DIR), include_examples=False)
        else:
            bag = DagBag(dag_folder=str(EXAMPLE_DIR))
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
