"""Provider registration: the entry point, the config section, and a cheap import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from airflow_vault_provider.get_provider_info import get_provider_info
from airflow_vault_provider.options import OPTIONS

BIN = Path(sys.executable).parent


def test_entry_point_is_registered():
    found = [
        ep for ep in entry_points(group="apache_airflow_provider") if ep.value.startswith("airflow_vault_provider")
    ]

    assert [ep.value for ep in found] == ["airflow_vault_provider.get_provider_info:get_provider_info"]
    assert found[0].load()() == get_provider_info()


def test_provider_info_matches_airflow_schema():
    import airflow
    import jsonschema

    schema_path = Path(airflow.__file__).parent / "provider_info.schema.json"
    jsonschema.validate(get_provider_info(), json.loads(schema_path.read_text()))


def test_config_section_documents_every_option():
    options = get_provider_info()["config"]["vault_init"]["options"]

    assert list(options) == list(OPTIONS)
    for name, option in options.items():
        assert option["description"], name
        assert option["version_added"] == "0.1.0", name
        assert option["type"] in ("string", "boolean", "integer"), name


def test_provider_info_import_is_cheap():
    code = (
        "import sys, airflow_vault_provider.get_provider_info as m; m.get_provider_info();"
        "print(','.join(sorted(n for n in sys.modules if n.split('.')[0] in ('airflow', 'kubernetes', 'hvac'))))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert output.stdout.strip() == ""


@pytest.fixture
def airflow_cli_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update({"AIRFLOW_HOME": str(tmp_path), "HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
    return env


def test_airflow_lists_provider_and_defaults(airflow_cli_env):
    providers = subprocess.run(
        [str(BIN / "airflow"), "providers", "list"], capture_output=True, text=True, env=airflow_cli_env, check=True
    )
    defaults = subprocess.run(
        [str(BIN / "airflow"), "config", "list", "--defaults", "--show-values", "--section", "vault_init"],
        capture_output=True,
        text=True,
        env=airflow_cli_env,
        check=False,
    )
    if "--show-values" in defaults.stderr:
        # Airflow 2 prints values without being asked and has no such flag.
        defaults = subprocess.run(
            [str(BIN / "airflow"), "config", "list", "--defaults", "--section", "vault_init"],
            capture_output=True,
            text=True,
            env=airflow_cli_env,
            check=True,
        )

    assert "airflow-vault-provider" in providers.stdout
    assert "[vault_init]" in defaults.stdout
    assert "# auth_method = kubernetes" in defaults.stdout
    assert '# command = ["python", "-m", "airflow_vault_provider.init"]' in defaults.stdout
    assert "# mount_path = /vault/secrets" in defaults.stdout
