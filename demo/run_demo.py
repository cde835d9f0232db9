"""Run the whole provider end to end on this machine: `make demo`.

The demo starts an OpenBao dev server and parses the shipped example DAGs with Airflow. It
builds a worker pod with the real `VaultKubernetesExecutor` and an operator pod with the real
`VaultKubernetesPodOperator`. For each pod it runs the `vault-init` command locally against
OpenBao, then reads the secrets as the task would. No cluster is needed, because the pods go
to loopback doubles of the Kubernetes API and local directories stand in for pod volumes.

Every step prints one line with OK or the failure reason. Nothing here prints a token, a
secret id or a secret value. Every temporary file and process is removed at the end, also
after a failure or Ctrl-C. The exit status is 0 only when every step succeeded.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
import multiprocessing
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
# Run as `python demo/run_demo.py`, the script's own folder is on sys.path but the
# repository root, which contains the `tests.support` helpers, is not.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import airflow_vault_provider.example_dags as example_dags  # noqa: E402
from airflow_vault_provider import contract  # noqa: E402
from demo.pods import DemoError, PodRun, check_mode, create_volumes, describe_pod, mapped_env  # noqa: E402
from tests.support.kube_api_server import KubeApiServerDouble  # noqa: E402
from tests.support.openbao import (  # noqa: E402
    AppRoleCredentials,
    JwtSigner,
    OpenBaoServer,
    clean_env,
    enable_approle,
    enable_jwt,
    read_policy_for,
    start_openbao,
    write_policy,
)

DEFAULT_OUTPUT_DIR = REPO_ROOT / "build" / "demo"
EXECUTOR_PATH = "airflow_vault_provider.executors.vault_kubernetes_executor.VaultKubernetesExecutor"
RUN_DAG_SCRIPT = REPO_ROOT / "tests" / "support" / "run_dag.py"
EXAMPLE_DIR = Path(example_dags.__file__).parent

NAMESPACE = "airflow"
WORKER_SERVICE_ACCOUNT = "airflow-worker"
EXECUTOR_DAG_ID = "example_vault_executor"
EXECUTOR_TASK_ID = "read_with_pod_token"
OPERATOR_DAG_ID = "example_vault_operator"
OPERATOR_TASK_ID = "read_rendered_secret"

# Vault content the example DAGs expect: the executor example reads secret/data/etl/db, the
# operator example renders it to db.json and the `token` key of secret/data/etl/api to
# api-token.txt. Both log in with the role etl-reader.
KV_MOUNT = "secret"
DB_SECRET = "etl/db"
API_SECRET = "etl/api"
READER_POLICY = "etl-reader"
READER_ROLE = "etl-reader"
# The role of `[vault_init] role`: it logs in but reads nothing, so a pod that lost its
# per-task role override fails the secret read instead of passing by accident.
DEFAULT_ROLE = "airflow-worker"
APPROLE_ROLE = "etl-batch"
JWT_ISSUER = "https://kubernetes.default.svc.cluster.local"

# Start-up and run budgets of the child programs, in seconds.
AIRFLOW_TIMEOUT_SECONDS = 180
VAULT_INIT_TIMEOUT_SECONDS = 60
# How long vault-init retries before it gives up (`[vault_init] login_timeout_seconds`).
LOGIN_TIMEOUT_SECONDS = "30"


class Demo:
    """The demo's state: the temporary root, the running servers and what each step built.

    Every resource registers its clean-up when it is created. `close` runs them in reverse
    order, then restores the environment variables the demo set in this process.
    """

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self.root = Path(tempfile.mkdtemp(prefix="vault-provider-demo-"))
        self.home = self.root / "home"
        self.home.mkdir()
        self.airflow_home = self.root / "airflow-home"
        self.server: OpenBaoServer | None = None
        self.signer: JwtSigner | None = None
        self.approle: AppRoleCredentials | None = None
        # Values that must never be shown: the demo keeps them only to write them into OpenBao.
        self.secret_values: dict[str, dict[str, str]] = {}
        self.airflow_env: dict[str, str] = {}
        self.executor_task: Any = None
        self.pods: dict[str, PodRun] = {}
        self._cleanups = contextlib.ExitStack()
        self._saved_environ: dict[str, str | None] = {}

    def set_environ(self, values: Mapping[str, str]) -> None:
        """Set environment variables of this process until `close`, for Airflow running in-process."""
        for name, value in values.items():
            self._saved_environ.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def on_close(self, callback: Callable[..., Any], *args: Any) -> None:
        self._cleanups.callback(callback, *args)

    def child_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Return the environment of a child program: its own HOME, Airflow's settings, ``extra``."""
        return clean_env(self.home) | self.airflow_env | dict(extra or {})

    def close(self) -> str:
        """Stop every server and process, remove the temporary root, restore the environment."""
        try:
            self._cleanups.close()
        finally:
            for name, value in self._saved_environ.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self._saved_environ.clear()
            shutil.rmtree(self.root, ignore_errors=True)

        leftovers = [str(path) for path in (self.root, self.server and self.server.home) if path and path.exists()]
        if self.server is not None and self.server.process.poll() is None:
            leftovers.append(f"OpenBao process {self.server.process.pid}")
        leftovers += [f"process {child.name} ({child.pid})" for child in multiprocessing.active_children()]
        if leftovers:
            raise DemoError(f"could not remove {', '.join(leftovers)}")
        stopped = "OpenBao stopped, " if self.server is not None else ""
        return f"{stopped}temporary files removed, no child process left"


# Step 1: OpenBao.


def start_vault(demo: Demo) -> list[str]:
    """Start `bao server -dev` on 127.0.0.1 and configure the secrets and roles the examples use."""
    server = start_openbao()
    demo.server = server
    demo.on_close(shutil.rmtree, server.home, True)
    demo.on_close(server.stop)
    root = server.client()

    demo.secret_values = {
        DB_SECRET: {"username": f"etl-{_random_value()}", "password": _random_value()},
        API_SECRET: {"token": _random_value()},
    }
    for path, data in demo.secret_values.items():
        root.secrets.kv.v2.create_or_update_secret(path, data, mount_point=KV_MOUNT)
    write_policy(root, READER_POLICY, read_policy_for({f"{KV_MOUNT}/data/etl/*": "read"}))

    demo.signer = JwtSigner(issuer=JWT_ISSUER)
    enable_jwt(root, demo.signer, role_name=READER_ROLE, policies=(READER_POLICY,))
    root.auth.jwt.create_role(
        name=DEFAULT_ROLE,
        role_type="jwt",
        user_claim="sub",
        bound_audiences=["vault"],
        allowed_redirect_uris=[],
        token_policies=["default"],
        token_ttl="1h",  # noqa: S106 - a lifetime, not a password
        path="jwt",
    )
    demo.approle = enable_approle(root, role_name=APPROLE_ROLE, policies=(READER_POLICY,))

    return [
        f"{server.addr} with KV v2 secrets {KV_MOUNT}/{DB_SECRET} and {KV_MOUNT}/{API_SECRET}, "
        f"policy {READER_POLICY}, jwt roles {DEFAULT_ROLE} and {READER_ROLE}, AppRole role {APPROLE_ROLE}"
    ]


def _random_value() -> str:
    return secrets.token_urlsafe(18)


# Step 2: Airflow.


def prepare_airflow(demo: Demo) -> list[str]:
    """Create an Airflow home with a SQLite database, configure `[vault_init]`, parse the example DAGs."""
    server = _require(demo.server, "OpenBao")
    dags = demo.airflow_home / "dags"
    dags.mkdir(parents=True)
    for name in (f"{EXECUTOR_DAG_ID}.py", f"{OPERATOR_DAG_ID}.py"):
        shutil.copy(EXAMPLE_DIR / name, dags / name)

    demo.airflow_env = {
        "AIRFLOW_HOME": str(demo.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": EXECUTOR_PATH,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{demo.airflow_home}/airflow.db",
        # Airflow 2.11 rejects a Kubernetes executor on SQLite unless this switch is set.
        "_AIRFLOW__SKIP_DATABASE_EXECUTOR_COMPATIBILITY_CHECK": "1",
        # Keeps Airflow 2.11 from warning about the old timer unit on every start.
        "AIRFLOW__METRICS__TIMER_UNIT_CONSISTENCY": "True",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__KUBERNETES_EXECUTOR__NAMESPACE": NAMESPACE,
        "AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_REPOSITORY": "registry.example.com/airflow",
        "AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_TAG": "vault-demo",
        "AIRFLOW__VAULT_INIT__VAULT_ADDR": server.addr,
        "AIRFLOW__VAULT_INIT__AUTH_METHOD": "jwt",
        "AIRFLOW__VAULT_INIT__ROLE": DEFAULT_ROLE,
        "AIRFLOW__VAULT_INIT__LOGIN_TIMEOUT_SECONDS": LOGIN_TIMEOUT_SECONDS,
    }
    demo.set_environ({"HOME": str(demo.home), **demo.airflow_env})

    migrate = _run_airflow(demo, ["-m", "airflow", "db", "migrate"])
    if migrate.returncode != 0:
        raise DemoError(f"airflow db migrate exited {migrate.returncode}: {_last_line(migrate.stderr)}")

    import airflow

    bag = _dag_bag(dags)
    if bag.import_errors:
        raise DemoError(f"the example DAGs failed to parse: {bag.import_errors}")
    missing = {EXECUTOR_DAG_ID, OPERATOR_DAG_ID} - set(bag.dag_ids)
    if missing:
        raise DemoError(f"the example DAGs {', '.join(sorted(missing))} were not found in {dags}")
    demo.executor_task = bag.dags[EXECUTOR_DAG_ID].get_task(EXECUTOR_TASK_ID)

    return [
        f"Airflow {airflow.__version__}, SQLite database migrated, parsed {', '.join(sorted(bag.dag_ids))}; "
        f"executor {EXECUTOR_PATH.rsplit('.', 1)[1]}, [vault_init] auth_method jwt, role {DEFAULT_ROLE}"
    ]


def _dag_bag(folder: Path) -> Any:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 2
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    # Airflow 2's DagBag also loads Airflow's own example DAGs unless include_examples is False.
    if "include_examples" in DagBag.__init__.__code__.co_varnames:
        return DagBag(dag_folder=str(folder), include_examples=False)  # type: ignore[call-arg]
    return DagBag(dag_folder=str(folder))


def _run_airflow(demo: Demo, args: list[str], extra_env: Mapping[str, str] | None = None) -> Any:
    return subprocess.run(
        [sys.executable, *args],
        env=demo.child_env(extra_env),
        cwd=demo.root,
        capture_output=True,
        text=True,
        timeout=AIRFLOW_TIMEOUT_SECONDS,
    )


# Step 3: the executor's worker pod.


def build_executor_pod(demo: Demo) -> list[str]:
    """Queue the example task on the real `VaultKubernetesExecutor` and record the pod it creates."""
    from tests.support.executor_run import (
        TaskSpec,
        executor_settings,
        started_executor,
        submit,
        worker_template,
        write_template,
    )

    task = _require(demo.executor_task, "the parsed executor example task")
    kube_api = KubeApiServerDouble().start()
    demo.on_close(kube_api.stop)

    work = demo.root / "executor"
    work.mkdir()
    # The worker pod template of a typical deployment, with two init containers of its own. Its
    # service account becomes the subject of the projected token that Vault's jwt role checks.
    template = worker_template(["git-sync-init", "wait-for-db"])
    template["spec"]["serviceAccountName"] = WORKER_SERVICE_ACCOUNT
    settings = executor_settings(work, kube_api) | demo.airflow_env
    settings["AIRFLOW__KUBERNETES_EXECUTOR__POD_TEMPLATE_FILE"] = write_template(work / "pod_template.yaml", template)
    demo.set_environ(settings)

    executor = started_executor()
    try:
        keys = submit(executor, [TaskSpec(EXECUTOR_TASK_ID, task.executor_config)], dag_id=EXECUTOR_DAG_ID)
        state, info = executor.event_buffer.get(keys[EXECUTOR_TASK_ID], (None, None))
    finally:
        executor.end()

    body = kube_api.pods_by_task().get(EXECUTOR_TASK_ID)
    if body is None:
        raise DemoError(f"the executor created no pod for {EXECUTOR_TASK_ID} (task state {state}: {info})")
    pod = _record_pod(demo, "executor", body)
    return describe_pod(pod)


def _record_pod(demo: Demo, label: str, body: dict[str, Any]) -> PodRun:
    import yaml

    demo.output_dir.mkdir(parents=True, exist_ok=True)
    yaml_path = demo.output_dir / f"{label}-pod.yaml"
    yaml_path.write_text(yaml.safe_dump(body, sort_keys=False))
    pod = PodRun(label=label, body=body, yaml_path=yaml_path)
    demo.pods[label] = pod
    return pod


# Steps 4 and 7: vault-init.


def run_vault_init(demo: Demo, label: str) -> list[str]:
    """Run the `vault-init` command of a built pod locally, with the container's env and mapped volumes."""
    pod = _require(demo.pods.get(label), f"the {label} pod")
    container = pod.init_container()
    create_volumes(pod, demo.root / label / "volumes", _require(demo.signer, "the JWT signer"))

    env = mapped_env(pod, container)
    termination_log = demo.root / label / "termination-log"
    env[contract.ENV_TERMINATION_LOG] = str(termination_log)
    command = [*(container.get("command") or ()), *(container.get("args") or ())]
    if command[:1] != ["python"]:
        raise DemoError(f"the vault-init command {command} does not start with python, so it cannot run here")

    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, *command[1:]],
        env=clean_env(demo.home) | env,
        cwd=demo.root / label,
        capture_output=True,
        text=True,
        timeout=VAULT_INIT_TIMEOUT_SECONDS,
    )
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        message = termination_log.read_text().strip() if termination_log.exists() else _last_line(result.stderr)
        raise DemoError(f"vault-init exited {result.returncode}: {message}")

    output_dir = Path(env[contract.ENV_OUTPUT_DIR])
    written = sorted(path.name for path in output_dir.iterdir() if not path.name.startswith("."))
    token_file = output_dir / env.get(contract.ENV_TOKEN_FILE, "token")
    check_mode(token_file)
    return [
        f"exit 0 in {elapsed:.1f} s, logged in as system:serviceaccount:{pod.namespace}:{pod.service_account} "
        f"(auth method {env[contract.ENV_AUTH_METHOD]}, role {env.get(contract.ENV_ROLE, '-')}); "
        f"wrote {', '.join(written)}"
    ]


def run_executor_vault_init(demo: Demo) -> list[str]:
    return run_vault_init(demo, "executor")


def run_operator_vault_init(demo: Demo) -> list[str]:
    return run_vault_init(demo, "operator")


# Step 5: the task of the executor example.


def read_secret_as_task(demo: Demo) -> list[str]:
    """Read the example's secret with Airflow's VaultHook, using the token file vault-init wrote."""
    pod = _require(demo.pods.get("executor"), "the executor pod")
    env = mapped_env(pod, pod.task_container())
    keys = _vault_hook_keys(demo, env, DB_SECRET)

    # The executor example also renders the secret to db.json; both must show the same keys.
    rendered = Path(env[contract.ENV_VAULT_TOKEN_FILE]).parent / "db.json"
    check_mode(rendered)
    rendered_keys = sorted(json.loads(rendered.read_text()))
    if rendered_keys != keys:
        raise DemoError(f"db.json has keys {rendered_keys}, but Vault returned {keys}")
    return [f"VaultHook with token_path read {KV_MOUNT}/{DB_SECRET}: keys {', '.join(keys)} (db.json has the same)"]


def _vault_hook_keys(demo: Demo, env: Mapping[str, str], secret_path: str) -> list[str]:
    """Return the key names of ``secret_path`` as read by VaultHook with the pod's VAULT_ADDR and token file."""
    from airflow.providers.hashicorp.hooks.vault import VaultHook

    address = urlsplit(env[contract.ENV_VAULT_ADDR])
    connection = {"conn_type": "vault", "host": address.hostname, "port": address.port, "schema": KV_MOUNT}
    demo.set_environ({"AIRFLOW_CONN_VAULT_DEMO": json.dumps(connection)})
    hook = VaultHook(vault_conn_id="vault_demo", auth_type="token", token_path=env[contract.ENV_VAULT_TOKEN_FILE])
    secret = hook.get_secret(secret_path)
    if not secret:
        raise DemoError(f"VaultHook found no secret at {KV_MOUNT}/{secret_path}")
    return sorted(secret)


# Step 6: the operator's pod.


def build_operator_pod(demo: Demo) -> list[str]:
    """Run the operator example with `dag.test()` against a Kubernetes API double; record its pod."""
    kube_api = KubeApiServerDouble().start()
    demo.on_close(kube_api.stop)
    kubeconfig = kube_api.write_kubeconfig(demo.root / "operator-kubeconfig")
    connection = {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig), "namespace": NAMESPACE}}

    # tests/support/run_dag.py parses the DAG and runs `dag.test()`: a real DAG run whose task
    # calls the real build_pod_request_obj with its real context, then creates the pod.
    result = _run_airflow(
        demo,
        [str(RUN_DAG_SCRIPT), str(demo.airflow_home / "dags"), OPERATOR_DAG_ID, "{}"],
        {"AIRFLOW_CONN_KUBERNETES_DEFAULT": json.dumps(connection)},
    )
    output = result.stdout + result.stderr
    if "DAG RUN STATE: success" not in output:
        raise DemoError(f"the {OPERATOR_DAG_ID} DAG run did not succeed: {_last_line(output)}")
    if len(kube_api.created_pods) != 1:
        raise DemoError(f"the operator created {len(kube_api.created_pods)} pods, expected 1")
    pod = _record_pod(demo, "operator", kube_api.created_pods[0])
    return describe_pod(pod)


# Step 8: the task of the operator example.


def read_rendered_secrets(demo: Demo) -> list[str]:
    """Check the files vault-init rendered for the operator pod, and read them as its task would."""
    pod = _require(demo.pods.get("operator"), "the operator pod")
    env = mapped_env(pod, pod.task_container())
    secrets_dir = Path(env[contract.ENV_VAULT_TOKEN_FILE]).parent

    db_file, api_file = secrets_dir / "db.json", secrets_dir / "api-token.txt"
    for path in (db_file, api_file):
        check_mode(path)
    db_keys = sorted(json.loads(db_file.read_text()))
    if not api_file.read_text():
        raise DemoError("api-token.txt is empty")

    vault_keys = _vault_hook_keys(demo, env, DB_SECRET)
    if vault_keys != db_keys:
        raise DemoError(f"db.json has keys {db_keys}, but Vault returned {vault_keys}")
    return [
        f"db.json keys {', '.join(db_keys)}; api-token.txt holds the raw value of key token; both mode 0440; "
        "VaultHook with token_path read the same keys"
    ]


# The runner.


@dataclasses.dataclass(frozen=True)
class Step:
    """One line of the demo: its title and the function that runs it and returns the detail lines."""

    title: str
    run: Callable[[Demo], list[str]]


STEPS = (
    Step("Start OpenBao and configure it", start_vault),
    Step("Prepare Airflow and parse the example DAGs", prepare_airflow),
    Step("Build the worker pod with VaultKubernetesExecutor", build_executor_pod),
    Step("Run vault-init of the worker pod", run_executor_vault_init),
    Step("Read the secret as the worker task", read_secret_as_task),
    Step("Build the pod with VaultKubernetesPodOperator", build_operator_pod),
    Step("Run vault-init of the operator pod", run_operator_vault_init),
    Step("Read the rendered secrets as the operator task", read_rendered_secrets),
)
CLEANUP_TITLE = "Stop OpenBao and remove temporary files"


def run(
    output_dir: Path = DEFAULT_OUTPUT_DIR,
    steps: tuple[Step, ...] = STEPS,
    before_cleanup: Callable[[Demo], None] | None = None,
    echo: Callable[[str], None] = print,
) -> bool:
    """Run ``steps`` in order, stopping at the first failure, then clean up; return whether all succeeded.

    ``before_cleanup`` is called with the demo after the last step, before anything is removed.
    A KeyboardInterrupt still runs the clean-up, then propagates.
    """
    total = len(steps) + 1
    demo = Demo(output_dir)
    succeeded = True
    try:
        for number, step in enumerate(steps, start=1):
            if not succeeded:
                echo(_line(number, total, step.title, "SKIPPED (an earlier step failed)"))
                continue
            succeeded = _run_step(number, total, step.title, functools.partial(step.run, demo), echo)
        if before_cleanup is not None:
            before_cleanup(demo)
    finally:
        cleaned = _run_step(total, total, CLEANUP_TITLE, lambda: [demo.close()], echo)
    return succeeded and cleaned


def _run_step(
    number: int, total: int, title: str, action: Callable[[], list[str]], echo: Callable[[str], None]
) -> bool:
    try:
        # The step lines are the demo's output. Airflow and cncf-kubernetes warn about settings
        # the demo sets on purpose (such as worker_container_repository), which would bury them.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lines = action()
    except KeyboardInterrupt:
        echo(_line(number, total, title, "INTERRUPTED"))
        raise
    except Exception as error:
        # A DemoError message states the failure in full. Any other error gets its type in front.
        reason = str(error) if isinstance(error, DemoError) else f"{type(error).__name__}: {error}"
        echo(_line(number, total, title, f"FAILED: {reason}"))
        return False
    echo(_line(number, total, title, f"OK: {lines[0]}" if lines else "OK"))
    for line in lines[1:]:
        echo(f"        {line}")
    return True


def _line(number: int, total: int, title: str, outcome: str) -> str:
    return f"[{number}/{total}] {title}: {outcome}"


def _require(value: Any, what: str) -> Any:
    if value is None:
        raise DemoError(f"{what} is missing because an earlier step did not finish")
    return value


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _interrupt_on_signal(main_pid: int) -> Callable[[int, types.FrameType | None], None]:
    """Return a signal handler that interrupts the demo's own process like Ctrl-C.

    Processes forked from the demo, such as the executor's pod watcher, inherit the handler.
    They get the signal's default action instead, so they end when the executor stops them.
    """

    def handle(signum: int, frame: types.FrameType | None) -> None:
        if os.getpid() != main_pid:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise KeyboardInterrupt(f"signal {signum}")

    return handle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DEFAULT_OUTPUT_DIR,
        help=f"directory for the pod YAML files the demo writes (default: {DEFAULT_OUTPUT_DIR})",
    )
    args = parser.parse_args(argv)

    # A terminated demo cleans up the same way as an interrupted one.
    signal.signal(signal.SIGTERM, _interrupt_on_signal(os.getpid()))
    started = time.monotonic()
    try:
        succeeded = run(args.output_dir)
    except KeyboardInterrupt:
        print("Demo interrupted; temporary files and processes were removed.")
        return 130
    print(f"Demo {'succeeded' if succeeded else 'FAILED'} in {time.monotonic() - started:.1f} s.")
    return 0 if succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
