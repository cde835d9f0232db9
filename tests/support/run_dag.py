"""Run one DAG with `dag.test()` in this process and print its final state.

Usage: python run_dag.py DAGS_FOLDER DAG_ID RUN_CONF_JSON. The caller sets AIRFLOW_HOME and
a migrated database; the tests run this in a subprocess, so each run gets a clean Airflow.
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    dags_folder, dag_id, run_conf = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    try:
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=dags_folder)
    except ImportError:  # Airflow 2
        from airflow.models.dagbag import DagBag

        bag = DagBag(dag_folder=dags_folder, include_examples=False)
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")

    dag_run = bag.get_dag(dag_id).test(run_conf=run_conf)
    print(f"DAG RUN STATE: {dag_run.state}")


if __name__ == "__main__":
    main()
