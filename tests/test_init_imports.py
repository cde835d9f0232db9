"""The init program imports neither Airflow nor Kubernetes nor hvac: it starts in every task pod."""

from __future__ import annotations

import re
import subprocess
import sys

from airflow_vault_provider import contract
from airflow_vault_provider.init.errors import ExitCode
from tests.support.init_program import INIT_COMMAND, InitWorkspace
from tests.support.openbao import OpenBaoServer, enable_approle

FORBIDDEN_TOP_LEVEL = {"airflow", "kubernetes", "hvac", "requests", "urllib3", "yaml", "pendulum", "sqlalchemy"}


def _imported_top_level(importtime_stderr: str) -> set[str]:
    names = set()
    for line in importtime_stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+\d+ \|\s*(\S+)", line)
        if match:
            names.add(match.group(1).split(".")[0])
    return names


def test_successful_run_imports_nothing_heavy(openbao: OpenBaoServer, workspace: InitWorkspace) -> None:
    creds = enable_approle(openbao.client(), mount="approle-imports")
    env = workspace.approle_env(openbao.addr, creds.mount, creds.role_id, creds.secret_id)

    process = subprocess.run(
        [sys.executable, "-X", "importtime", *INIT_COMMAND[1:]], env=env, capture_output=True, text=True, timeout=60
    )

    assert process.returncode == ExitCode.OK, process.stderr
    imported = _imported_top_level(process.stderr)
    assert "airflow_vault_provider" in imported
    assert imported & FORBIDDEN_TOP_LEVEL == set()


def test_sys_modules_after_main(workspace: InitWorkspace) -> None:
    # A run that fails on its settings still loads every module of the program.
    environ = {contract.ENV_TERMINATION_LOG: str(workspace.termination_log)}
    code = (
        "import sys\n"
        "from airflow_vault_provider.init.__main__ import main\n"
        f"main({environ!r})\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    env = workspace.env("http://127.0.0.1:1")

    process = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)

    modules = set(process.stdout.split())
    assert contract.ENV_VAULT_ADDR in workspace.termination_log.read_text()
    assert "airflow_vault_provider.init.vault" in modules
    assert "airflow_vault_provider.config" not in modules
    assert {module.split(".")[0] for module in modules} & FORBIDDEN_TOP_LEVEL == set()
