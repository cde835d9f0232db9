"""The `make demo` steps, run in-process: their output, what they must never show, and the clean-up."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from demo import run_demo

# Settings the demo sets in this process while it runs; each must be back to its old value after.
RESTORED_VARIABLES = ("HOME", "AIRFLOW_HOME", "AIRFLOW__CORE__EXECUTOR", "AIRFLOW__VAULT_INIT__VAULT_ADDR")
STEP_LINE = re.compile(r"\[\d+/\d+\] ")


def collect_state(seen: dict[str, Any]) -> Any:
    """Return a `before_cleanup` callback that keeps the demo and every value it must not show."""

    def collect(demo: run_demo.Demo) -> None:
        seen["demo"] = demo
        assert demo.server is not None
        assert demo.approle is not None
        hidden = {"root token": demo.server.root_token, "AppRole secret id": demo.approle.secret_id}
        for path, data in demo.secret_values.items():
            hidden.update({f"value of {path} key {key}": value for key, value in data.items()})
        for label, pod in demo.pods.items():
            hidden[f"token of the {label} pod"] = (pod.volumes["vault-secrets"] / "token").read_text()
        seen["hidden"] = hidden

    return collect


def check_cleaned_up(demo: run_demo.Demo) -> None:
    assert not demo.root.exists()
    assert demo.server is not None
    assert demo.server.process.poll() is not None
    assert not demo.server.home.exists()


def step_lines(output: str) -> list[str]:
    # Airflow's own log lines start with "[" and a timestamp; step lines with "[number/total]".
    return [line for line in output.splitlines() if STEP_LINE.match(line)]


def test_demo_steps_succeed(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    environ_before = {name: os.environ.get(name) for name in RESTORED_VARIABLES}
    seen: dict[str, Any] = {}

    succeeded = run_demo.run(tmp_path / "out", before_cleanup=collect_state(seen))

    captured = capfd.readouterr()
    lines = step_lines(captured.out)
    assert succeeded, captured.out + captured.err[-3000:]
    titles = [step.title for step in run_demo.STEPS] + [run_demo.CLEANUP_TITLE]
    assert len(lines) == len(titles)
    for number, (line, title) in enumerate(zip(lines, titles, strict=True), start=1):
        assert line.startswith(f"[{number}/{len(titles)}] {title}: OK"), line

    assert "init containers: vault-init, git-sync-init, wait-for-db" in captured.out
    worker_login = "logged in as system:serviceaccount:airflow:airflow-worker (auth method jwt, role etl-reader)"
    assert worker_login in captured.out
    assert "keys password, username" in captured.out
    check_cleaned_up(seen["demo"])
    assert {name: os.environ.get(name) for name in RESTORED_VARIABLES} == environ_before

    pod_files = sorted((tmp_path / "out").iterdir())
    assert [path.name for path in pod_files] == ["executor-pod.yaml", "operator-pod.yaml"]
    shown = captured.out + captured.err + "".join(path.read_text() for path in pod_files)
    hidden = seen["hidden"]
    # Each value is long and random, so finding none of them in the output means something.
    assert sorted(name for name, value in hidden.items() if len(value) >= 16) == sorted(hidden)
    # Names only, so a failure does not print the value it found.
    assert [name for name, value in hidden.items() if value in shown] == []

    executor_pod = yaml.safe_load(pod_files[0].read_text())
    operator_pod = yaml.safe_load(pod_files[1].read_text())
    assert executor_pod["metadata"]["annotations"]["dag_id"] == "example_vault_executor"
    assert executor_pod["metadata"]["annotations"]["vault.airflow/status"] == "injected"
    assert operator_pod["metadata"]["labels"]["dag_id"] == "example_vault_operator"
    assert operator_pod["metadata"]["annotations"]["vault.airflow/secret-db.json"] == "secret/data/etl/db"


def test_failed_step_skips_rest_and_cleans_up(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    def broken(demo: run_demo.Demo) -> list[str]:
        raise run_demo.DemoError("broken on purpose")

    steps = (run_demo.STEPS[0], run_demo.Step("Break", broken), run_demo.STEPS[1])
    seen: dict[str, Any] = {}

    succeeded = run_demo.run(tmp_path, steps=steps, before_cleanup=collect_state(seen))

    lines = step_lines(capfd.readouterr().out)
    assert not succeeded
    assert lines[0].startswith("[1/4] Start OpenBao and configure it: OK")
    assert lines[1] == "[2/4] Break: FAILED: broken on purpose"
    assert lines[2] == "[3/4] Prepare Airflow and parse the example DAGs: SKIPPED (an earlier step failed)"
    assert lines[3].startswith(f"[4/4] {run_demo.CLEANUP_TITLE}: OK")
    check_cleaned_up(seen["demo"])


def test_interrupt_cleans_up(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    seen: dict[str, Any] = {}

    def interrupt(demo: run_demo.Demo) -> list[str]:
        seen["demo"] = demo
        raise KeyboardInterrupt

    steps = (run_demo.STEPS[0], run_demo.Step("Wait", interrupt))

    with pytest.raises(KeyboardInterrupt):
        run_demo.run(tmp_path, steps=steps)

    lines = step_lines(capfd.readouterr().out)
    assert lines[1] == "[2/3] Wait: INTERRUPTED"
    assert lines[2].startswith(f"[3/3] {run_demo.CLEANUP_TITLE}: OK")
    check_cleaned_up(seen["demo"])


def test_unexpected_error_names_its_type(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    def missing_file(demo: run_demo.Demo) -> list[str]:
        raise FileNotFoundError("no such file: pod_template.yaml")

    succeeded = run_demo.run(tmp_path, steps=(run_demo.Step("Read", missing_file),))

    lines = step_lines(capfd.readouterr().out)
    assert not succeeded
    assert lines[0] == "[1/2] Read: FAILED: FileNotFoundError: no such file: pod_template.yaml"
    assert lines[1] == f"[2/2] {run_demo.CLEANUP_TITLE}: OK: temporary files removed, no child process left"
