"""`airflow vault-init render` and `check`, run as the real `airflow` command.

Each command runs in its own process with a temporary AIRFLOW_HOME and SQLite database,
because Airflow registers CLI commands and reads its settings once per process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.support.executor_run import EXECUTOR_PATH, WORKER_REPOSITORY, WORKER_TAG, worker_template, write_template
from tests.support.openbao import (
    JwtSigner,
    OpenBaoServer,
    enable_approle,
    enable_jwt,
    free_port,
    new_secret_id,
    unique_name,
)
from tests.support.pods import NEWEST_KUBERNETES, OLDEST_KUBERNETES

AIRFLOW = Path(sys.executable).parent / "airflow"
EXECUTORS = f"vault_k8s:{EXECUTOR_PATH}"
# Vault (hvs.) and OpenBao (s.) service tokens.
TOKEN_PATTERN = re.compile(r"\b(hvs|s)\.[A-Za-z0-9]{20,}")

DAG_FILE = '''
import datetime

from kubernetes.client import models as k8s

try:
    from airflow.sdk import DAG
except ImportError:
    from airflow import DAG
try:
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.providers.standard.operators.python import PythonOperator
except ImportError:
    from airflow.operators.empty import EmptyOperator
    from airflow.operators.python import PythonOperator


def annotated(**annotations):
    return {"pod_override": k8s.V1Pod(metadata=k8s.V1ObjectMeta(annotations=annotations))}


with DAG("billing", start_date=datetime.datetime(2026, 1, 1), schedule=None):
    EmptyOperator(task_id="plain")
    EmptyOperator(task_id="overridden", executor_config=annotated(**{"vault.airflow/role": "billing-reader"}))
    EmptyOperator(task_id="own_template", executor_config={"pod_template_file": TEMPLATE})
    EmptyOperator(task_id="invalid", executor_config=annotated(**{"vault.airflow/auth-method": "ldap"}))
    PythonOperator.partial(task_id="mapped", python_callable=print).expand(op_args=[["a"], ["b"], ["c"]])
'''


class AirflowCli:
    """Runs `airflow` in a fresh process with a fixed home and extra settings."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.env = env

    def run(self, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **settings}
        return subprocess.run(
            [str(AIRFLOW), *args], env=env, cwd=self.home, capture_output=True, text=True, timeout=240
        )

    def render(self, task_id: str, *extra: str) -> dict[str, Any]:
        result = self.run("vault-init", "render", "--dag-id", "billing", "--task-id", task_id, *extra)
        assert result.returncode == 0, result.stderr[-3000:]
        return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module")
def airflow_cli(tmp_path_factory: pytest.TempPathFactory) -> AirflowCli:
    home = tmp_path_factory.mktemp("airflow-cli")
    dags = home / "dags"
    dags.mkdir()
    template = write_template(home / "pod_template.yaml", worker_template(["git-sync-init", "wait-for-db"]))
    own_template = write_template(home / "billing_template.yaml", worker_template(["fetch-reports"]))
    (dags / "billing.py").write_text(f"TEMPLATE = {own_template!r}\n" + DAG_FILE)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": EXECUTORS,
        "AIRFLOW__KUBERNETES_EXECUTOR__POD_TEMPLATE_FILE": template,
        "AIRFLOW__KUBERNETES_EXECUTOR__NAMESPACE": "airflow",
        "AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_REPOSITORY": WORKER_REPOSITORY,
        "AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_TAG": WORKER_TAG,
        "AIRFLOW__VAULT_INIT__VAULT_ADDR": "https://vault.vault.svc:8200",
        "AIRFLOW__VAULT_INIT__ROLE": "airflow-worker",
        # Airflow 2 refuses a multi-process executor on SQLite unless this test switch is set.
        "_AIRFLOW__SKIP_DATABASE_EXECUTOR_COMPATIBILITY_CHECK": "1",
    }
    cli = AirflowCli(home, env)
    migrated = cli.run("db", "migrate")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    return cli


def init_names(pod: dict[str, Any]) -> list[str]:
    return [c["name"] for c in pod["spec"].get("initContainers", [])]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {var["name"]: var.get("value", var.get("valueFrom")) for var in container.get("env", [])}


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def test_help_lists_commands(airflow_cli: AirflowCli) -> None:
    result = airflow_cli.run("vault-init", "--help")

    assert result.returncode == 0, result.stderr[-3000:]
    assert "render" in result.stdout
    assert "check" in result.stdout


def test_render_plain_task(airflow_cli: AirflowCli) -> None:
    pod = airflow_cli.render("plain")

    assert init_names(pod) == ["vault-init", "git-sync-init", "wait-for-db"]
    (base,) = pod["spec"]["containers"]
    assert env_of(base)["AIRFLOW__CORE__EXECUTOR"] == EXECUTORS
    assert env_of(base)["VAULT_TOKEN_FILE"] == "/vault/secrets/token"
    assert pod["spec"]["initContainers"][0]["image"] == f"{WORKER_REPOSITORY}:{WORKER_TAG}"
    assert pod["metadata"]["annotations"]["task_id"] == "plain"
    body = {"apiVersion": "v1", "kind": "Pod", **pod}
    for version in (OLDEST_KUBERNETES, NEWEST_KUBERNETES):
        kubernetes_validate.validate(body, version, strict=True)


def test_render_pod_override(airflow_cli: AirflowCli) -> None:
    pod = airflow_cli.render("overridden")

    assert env_of(pod["spec"]["initContainers"][0])["VAULT_INIT_ROLE"] == "billing-reader"


def test_render_task_template(airflow_cli: AirflowCli) -> None:
    pod = airflow_cli.render("own_template")

    assert init_names(pod) == ["vault-init", "fetch-reports"]


def test_render_mapped_task(airflow_cli: AirflowCli) -> None:
    pod = airflow_cli.render("mapped", "--map-index", "2", "--run-id", "manual__render-test")

    assert pod["metadata"]["labels"]["map_index"] == "2"
    assert pod["metadata"]["annotations"]["run_id"] == "manual__render-test"
    assert init_names(pod)[0] == "vault-init"


def test_render_missing_dag(airflow_cli: AirflowCli) -> None:
    result = airflow_cli.run("vault-init", "render", "--dag-id", "no_such_dag", "--task-id", "plain")

    assert result.returncode != 0
    assert last_line(result.stderr).startswith("DAG 'no_such_dag' not found")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_render_missing_task(airflow_cli: AirflowCli) -> None:
    result = airflow_cli.run("vault-init", "render", "--dag-id", "billing", "--task-id", "no_such_task")

    assert result.returncode != 0
    assert last_line(result.stderr) == (
        "Task 'no_such_task' not found in DAG 'billing'. "
        "Its tasks are: invalid, mapped, overridden, own_template, plain."
    )
    assert "Traceback" not in result.stderr


def test_render_invalid_annotation(airflow_cli: AirflowCli) -> None:
    result = airflow_cli.run("vault-init", "render", "--dag-id", "billing", "--task-id", "invalid")

    assert result.returncode != 0
    message = last_line(result.stderr)
    assert message.startswith("Cannot render the worker pod of billing.invalid:")
    assert "annotation vault.airflow/auth-method: 'ldap'" in message
    assert "Traceback" not in result.stderr


# `check` against a real OpenBao dev server.


@pytest.fixture(scope="module")
def approle(openbao: OpenBaoServer) -> Any:
    return enable_approle(openbao.client(), mount=unique_name("approle"), policies=("default",))


def check_settings(openbao: OpenBaoServer, **overrides: str) -> dict[str, str]:
    settings = {"AIRFLOW__VAULT_INIT__VAULT_ADDR": openbao.addr, "AIRFLOW__VAULT_INIT__LOGIN_TIMEOUT_SECONDS": "10"}
    settings.update(overrides)
    return settings


def approle_check_settings(openbao: OpenBaoServer, approle: Any, secret_id: str) -> dict[str, str]:
    """Return `check_settings` for an AppRole login whose secret id comes from the environment."""
    return check_settings(
        openbao,
        AIRFLOW__VAULT_INIT__AUTH_METHOD="approle",
        AIRFLOW__VAULT_INIT__AUTH_PATH=approle.mount,
        AIRFLOW__VAULT_INIT__APPROLE_ROLE_ID=approle.role_id,
        AIRFLOW__VAULT_INIT__APPROLE_SECRET_ID_SECRET="airflow-approle/secret-id",
        VAULT_INIT_APPROLE_SECRET_ID=secret_id,
    )


def test_check_reaches_vault(airflow_cli: AirflowCli, openbao: OpenBaoServer) -> None:
    result = airflow_cli.run("vault-init", "check", **check_settings(openbao))

    assert result.returncode == 0, result.stderr[-3000:]
    assert "[vault_init] is valid" in result.stdout
    assert f"Vault at {openbao.addr} is reachable and active" in result.stdout


def test_check_unreachable_vault(airflow_cli: AirflowCli) -> None:
    address = f"http://127.0.0.1:{free_port()}"

    result = airflow_cli.run("vault-init", "check", AIRFLOW__VAULT_INIT__VAULT_ADDR=address)

    assert result.returncode != 0
    assert last_line(result.stderr).startswith(f"Vault at {address} is unreachable")


def test_check_invalid_setting(airflow_cli: AirflowCli, openbao: OpenBaoServer) -> None:
    result = airflow_cli.run(
        "vault-init", "check", **check_settings(openbao, AIRFLOW__VAULT_INIT__TOKEN_EXPIRATION_SECONDS="60")
    )

    assert result.returncode != 0
    message = last_line(result.stderr)
    assert message.startswith("Invalid Vault init setting [vault_init] token_expiration_seconds:")
    assert "token_expiration_seconds" in message
    assert "'60'" in message


def test_check_login_with_approle(airflow_cli: AirflowCli, openbao: OpenBaoServer, approle: Any) -> None:
    secret_id = new_secret_id(openbao.client(), approle.mount, approle.role_name)
    settings = approle_check_settings(openbao, approle, secret_id)

    result = airflow_cli.run("vault-init", "check", "--login", **settings)

    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Logged in with approle auth at auth/{approle.mount}: policies default" in result.stdout
    output = result.stdout + result.stderr
    assert secret_id not in output
    assert openbao.root_token not in output
    assert TOKEN_PATTERN.search(output) is None


def test_check_login_denied(airflow_cli: AirflowCli, openbao: OpenBaoServer, approle: Any) -> None:
    wrong_secret_id = str(uuid.uuid4())
    settings = approle_check_settings(openbao, approle, wrong_secret_id)

    result = airflow_cli.run("vault-init", "check", "--login", **settings)

    assert result.returncode != 0
    message = last_line(result.stderr)
    assert message.startswith("Login failed (init program exit")
    assert "denied" in message
    assert wrong_secret_id not in result.stdout + result.stderr


def test_check_login_with_jwt(airflow_cli: AirflowCli, openbao: OpenBaoServer, tmp_path: Path) -> None:
    signer = JwtSigner()
    mount = unique_name("jwt")
    enable_jwt(openbao.client(), signer, mount=mount, role_name="airflow-worker", audience="vault")
    jwt_file = tmp_path / "token"
    jwt_file.write_text(signer.service_account_token("airflow", "airflow-worker", audience="vault"))
    settings = check_settings(
        openbao,
        AIRFLOW__VAULT_INIT__AUTH_METHOD="jwt",
        AIRFLOW__VAULT_INIT__AUTH_PATH=mount,
        VAULT_INIT_JWT_FILE=str(jwt_file),
    )

    result = airflow_cli.run("vault-init", "check", "--login", **settings)

    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Logged in with jwt auth at auth/{mount}" in result.stdout


def test_check_login_without_token_file(airflow_cli: AirflowCli, openbao: OpenBaoServer) -> None:
    result = airflow_cli.run("vault-init", "check", "--login", **check_settings(openbao))

    assert result.returncode != 0
    message = last_line(result.stderr)
    assert "the service-account token /var/run/secrets/vault.airflow/serviceaccount/token does not exist" in message
    assert "VAULT_INIT_JWT_FILE" in message
