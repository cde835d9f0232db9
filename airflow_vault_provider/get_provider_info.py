"""Provider registration, read by Airflow's ProvidersManager on every CLI call.

Kept cheap: it imports only the option table, which is plain data.
"""

from __future__ import annotations

from typing import Any

from airflow_vault_provider import __version__
from airflow_vault_provider.options import OPTIONS, SECTION, SENSITIVE, VERSION_ADDED

_SECTION_DESCRIPTION = (
    "Settings of the Vault init container that airflow-vault-provider adds to Kubernetes "
    "task pods. Every key can be overridden per pod by the annotation "
    "vault.airflow/<key with dashes>, except enabled and inject_by_default."
)


def _config_section() -> dict[str, Any]:
    options = {
        name: {
            "description": description,
            "version_added": VERSION_ADDED,
            "type": option_type,
            "example": example,
            # Airflow expands {AIRFLOW_HOME}-style templates in defaults with str.format.
            "default": default.replace("{", "{{").replace("}", "}}"),
            "sensitive": name in SENSITIVE,
        }
        for name, (option_type, default, example, description) in OPTIONS.items()
    }
    return {SECTION: {"description": _SECTION_DESCRIPTION, "options": options}}


def get_provider_info() -> dict[str, Any]:
    """Return the provider's metadata in the form Airflow's provider schema expects."""
    return {
        "package-name": "airflow-vault-provider",
        "name": "Vault init for Kubernetes",
        "description": (
            "Gives every Kubernetes task pod a Vault token, and rendered secrets on request, "
            "through an init container added when the pod is built."
        ),
        "versions": [__version__],
        "executors": ["airflow_vault_provider.executors.vault_kubernetes_executor.VaultKubernetesExecutor"],
        # Airflow 3 loads `airflow vault-init` from here; Airflow 2 ignores the key and calls
        # the configured executor's get_cli_commands() instead.
        "cli": ["airflow_vault_provider.cli.definition.get_vault_init_cli_commands"],
        "config": _config_section(),
    }
