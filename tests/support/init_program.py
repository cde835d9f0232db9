"""Run the init program as the injected `vault-init` container would: a subprocess with only its env."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow_vault_provider import contract
from tests.support.openbao import clean_env

INIT_COMMAND = (sys.executable, "-m", "airflow_vault_provider.init")


@dataclasses.dataclass(frozen=True)
class InitRun:
    """What one run of the init program left behind."""

    returncode: int
    stdout: str
    stderr: str
    termination_message: str
    elapsed: float
    output_dir: Path

    def file(self, name: str) -> str:
        return (self.output_dir / name).read_text()

    def everything_shown(self) -> str:
        """Return all text the program showed: stdout, stderr and the termination message."""
        return "\n".join((self.stdout, self.stderr, self.termination_message))


@dataclasses.dataclass
class InitWorkspace:
    """A temporary stand-in for the pod: HOME, output volume, identity files, termination log."""

    root: Path

    def __post_init__(self) -> None:
        for name in ("home", "out", "identity"):
            (self.root / name).mkdir(exist_ok=True)

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def output_dir(self) -> Path:
        return self.root / "out"

    @property
    def termination_log(self) -> Path:
        return self.root / "termination-log"

    def identity_file(self, name: str, content: str) -> Path:
        path = self.root / "identity" / name
        path.write_text(content)
        return path

    def env(self, vault_addr: str, settings: Mapping[str, Any] | None = None) -> dict[str, str]:
        """Return a clean environment for the program plus ``settings`` (JSON-encoded unless strings)."""
        env = clean_env(self.home) | {
            contract.ENV_VAULT_ADDR: vault_addr,
            contract.ENV_OUTPUT_DIR: str(self.output_dir),
            contract.ENV_TERMINATION_LOG: str(self.termination_log),
            contract.ENV_TIMEOUT_SECONDS: "30",
        }
        for name, value in (settings or {}).items():
            env[name] = value if isinstance(value, str) else json.dumps(value)
        return env

    def approle_env(self, vault_addr: str, mount: str, role_id: str, secret_id: str) -> dict[str, str]:
        """Return `env` for an AppRole login at ``mount``, with a plain ``secret_id`` or a wrapping token."""
        return self.env(
            vault_addr,
            {
                contract.ENV_AUTH_METHOD: "approle",
                contract.ENV_AUTH_PATH: mount,
                contract.ENV_APPROLE_ROLE_ID: role_id,
                contract.ENV_APPROLE_SECRET_ID: secret_id,
            },
        )

    def jwt_env(self, vault_addr: str, method: str, mount: str, role: str, jwt: str) -> dict[str, str]:
        """Return `env` for a `kubernetes` or `jwt` login at ``mount`` that reads ``jwt`` from an identity file."""
        return self.env(
            vault_addr,
            {
                contract.ENV_AUTH_METHOD: method,
                contract.ENV_AUTH_PATH: mount,
                contract.ENV_ROLE: role,
                contract.ENV_JWT_FILE: str(self.identity_file("sa-token", jwt)),
            },
        )

    def run(self, env: Mapping[str, str], timeout: float = 90) -> InitRun:
        started = time.monotonic()
        process = subprocess.run(
            INIT_COMMAND, env=dict(env), capture_output=True, text=True, timeout=timeout, cwd=self.root
        )
        return self.collect(process.returncode, process.stdout, process.stderr, time.monotonic() - started)

    def start(self, env: Mapping[str, str]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            INIT_COMMAND, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.root
        )

    def collect(self, returncode: int, stdout: str, stderr: str, elapsed: float) -> InitRun:
        message = self.termination_log.read_text() if self.termination_log.exists() else ""
        return InitRun(returncode, stdout, stderr, message, elapsed, self.output_dir)
