"""Compare the init program with `bao agent` doing the same AppRole login and token write.

Both run against one local OpenBao dev server, with the same AppRole role id and secret id,
and write the token to a file. Runs are interleaved (program, agent, program, ...) so that
machine noise hits both alike. Each child's wall time is measured from spawn to exit, and
its peak memory is the max RSS that `os.wait4` reports for it.

Targets: the program's median wall time at most 1.5x the agent's, and its peak memory at
most 0.5x the agent's.

Usage: python bench/init_vs_agent.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from airflow_vault_provider import contract
from tests.support.openbao import bao_binary, clean_env, enable_approle, running_openbao

WALL_TARGET = 1.5
MEMORY_TARGET = 0.5


# A child's ru_maxrss counts the pages it shares with its parent between fork and exec, so
# spawning from this process (with hvac and the test helpers loaded) would add this
# process's size to both tools. A bare `python -S` launcher forks them instead. Its own
# size (4.8 MiB for a /bin/true child, Python 3.11 on Linux x86_64) stays below either
# tool's peak, so it cannot raise a reading.
_LAUNCHER = """
import os, sys, time
stderr = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(stderr, 2)
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - started, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def measure(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """Run ``command`` and return its wall time in seconds and max RSS in KiB; fail on a non-zero exit."""
    stderr_path = cwd / "child-stderr"
    launcher = [sys.executable, "-S", "-c", _LAUNCHER, str(stderr_path), *command]
    output = subprocess.run(launcher, env=env, cwd=cwd, capture_output=True, text=True, check=True).stdout
    elapsed, max_rss, returncode = output.split()
    if int(returncode) != 0:
        raise SystemExit(f"{command[0]} exited {returncode}:\n{stderr_path.read_text(errors='replace')}")
    # Linux reports ru_maxrss in KiB.
    return float(elapsed), int(max_rss)


def agent_config(workdir: Path, addr: str, mount: str, sink: Path) -> Path:
    config = workdir / "agent.hcl"
    config.write_text(
        f"""
exit_after_auth = true
pid_file = "{workdir / "agent.pid"}"
vault {{
  address = "{addr}"
}}
auto_auth {{
  method "approle" {{
    mount_path = "auth/{mount}"
    config = {{
      role_id_file_path = "{workdir / "role-id"}"
      secret_id_file_path = "{workdir / "secret-id"}"
      remove_secret_id_file_after_reading = false
    }}
  }}
  sink "file" {{
    config = {{
      path = "{sink}"
    }}
  }}
}}
"""
    )
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each tool (at least 10)")
    args = parser.parse_args()
    runs = max(10, args.runs)

    with running_openbao() as server, tempfile.TemporaryDirectory(prefix="bench-init-") as directory:
        workdir = Path(directory)
        (workdir / "home").mkdir()
        output_dir = workdir / "out"
        output_dir.mkdir()
        creds = enable_approle(server.client(), mount="approle-bench")
        (workdir / "role-id").write_text(creds.role_id)
        (workdir / "secret-id").write_text(creds.secret_id)
        sink = output_dir / "token"

        base_env = clean_env(workdir / "home")
        init_env = base_env | {
            contract.ENV_VAULT_ADDR: server.addr,
            contract.ENV_AUTH_METHOD: "approle",
            contract.ENV_AUTH_PATH: creds.mount,
            contract.ENV_APPROLE_ROLE_ID: creds.role_id,
            contract.ENV_APPROLE_SECRET_ID_FILE: str(workdir / "secret-id"),
            contract.ENV_OUTPUT_DIR: str(output_dir),
            contract.ENV_TOKEN_FILE: sink.name,
            contract.ENV_TERMINATION_LOG: str(workdir / "termination-log"),
            # As the injector sets it: the container's root filesystem is read-only.
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        tools = {
            "vault-init": ([sys.executable, "-m", "airflow_vault_provider.init"], init_env),
            "bao agent": (
                [str(bao_binary()), "agent", f"-config={agent_config(workdir, server.addr, creds.mount, sink)}"],
                base_env,
            ),
        }

        # One warm-up run each, so both read their files from the page cache.
        for command, env in tools.values():
            measure(command, env, workdir)

        samples: dict[str, list[tuple[float, int]]] = {name: [] for name in tools}
        for _ in range(runs):
            for name, (command, env) in tools.items():
                sink.unlink(missing_ok=True)
                samples[name].append(measure(command, env, workdir))
                if not sink.read_text().strip():
                    raise SystemExit(f"{name} wrote an empty token file")

    print(f"{runs} interleaved runs each, AppRole login + token file, OpenBao dev server on 127.0.0.1")
    print(f"python {sys.version.split()[0]}, {os.uname().machine}, {os.cpu_count()} CPUs")
    medians = {}
    for name, values in samples.items():
        walls = [wall for wall, _ in values]
        memories = [memory for _, memory in values]
        medians[name] = (statistics.median(walls), max(memories))
        print(
            f"{name:>10}: median wall {statistics.median(walls) * 1000:7.1f} ms "
            f"(min {min(walls) * 1000:.1f}, max {max(walls) * 1000:.1f}), "
            f"peak RSS {max(memories) / 1024:6.1f} MiB (median {statistics.median(memories) / 1024:.1f})"
        )
    wall_ratio = medians["vault-init"][0] / medians["bao agent"][0]
    memory_ratio = medians["vault-init"][1] / medians["bao agent"][1]
    print(
        f"wall time ratio vault-init / bao agent: {wall_ratio:.2f} (target <= {WALL_TARGET}) "
        f"{'met' if wall_ratio <= WALL_TARGET else 'MISSED'}"
    )
    print(
        f"peak memory ratio vault-init / bao agent: {memory_ratio:.2f} (target <= {MEMORY_TARGET}) "
        f"{'met' if memory_ratio <= MEMORY_TARGET else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
