"""Argument and command definitions of `airflow vault-init`.

Airflow imports this on every CLI call (through the provider's `cli` entry on Airflow 3, and
through `VaultKubernetesExecutor.get_cli_commands()` on Airflow 2), so it stays cheap: the
command bodies load only when a command runs.
"""

from __future__ import annotations

from typing import Any


def get_vault_init_cli_commands() -> list[Any]:
    """Return the `vault-init` command group with its `render` and `check` subcommands."""
    from airflow.cli.cli_config import ActionCommand, Arg, GroupCommand, lazy_load_command

    dag_id = Arg(("--dag-id",), required=True, help="ID of the DAG that holds the task.")
    task_id = Arg(("--task-id",), required=True, help="ID of the task to render the worker pod for.")
    map_index = Arg(
        ("--map-index",),
        type=int,
        default=-1,
        help="Map index of a mapped task instance; -1 (the default) for an unmapped task.",
    )
    run_id = Arg(
        ("--run-id",),
        default=None,
        help="Run ID written into the pod's labels and command. Default: a manual run ID for now.",
    )
    login = Arg(
        ("--login",),
        action="store_true",
        help="Also log in to Vault with the configured auth method, from where this command runs.",
    )
    return [
        GroupCommand(
            name="vault-init",
            help="Inspect the Vault init container that airflow-vault-provider adds to task pods",
            subcommands=(
                ActionCommand(
                    name="render",
                    help="Print the worker pod YAML that VaultKubernetesExecutor creates for a task, "
                    "Vault injection included. Needs no cluster.",
                    func=lazy_load_command("airflow_vault_provider.cli.render.render"),
                    args=(dag_id, task_id, map_index, run_id),
                ),
                ActionCommand(
                    name="check",
                    help="Validate the vault_init settings, reach Vault's health endpoint and, with --login, "
                    "log in with the configured auth method.",
                    func=lazy_load_command("airflow_vault_provider.cli.check.check"),
                    args=(login,),
                ),
            ),
        )
    ]
