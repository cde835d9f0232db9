"""Settings: parsing, Airflow's precedence, per-pod annotations and clear errors."""

from __future__ import annotations

import dataclasses

import pytest

from airflow_vault_provider.config import SecretSpec, VaultInitConfig, VaultInitConfigError
from airflow_vault_provider.options import OPTIONS

ADDR = "https://vault.vault.svc:8200"


def _parse(**raw: str) -> VaultInitConfig:
    return VaultInitConfig.from_mapping({"vault_addr": ADDR, "role": "airflow", **raw})


def test_defaults_match_option_table():
    config = _parse()

    assert config.auth_method == "kubernetes"
    assert config.auth_path == "kubernetes"
    assert config.token_expiration_seconds == 600
    assert config.mount_path == "/vault/secrets"
    assert config.target_containers == ("base",)
    assert config.resources_dict() == {
        "requests": {"cpu": "50m", "memory": "64Mi"},
        "limits": {"cpu": "500m", "memory": "128Mi"},
    }
    assert config.token_path == "/vault/secrets/token"


def test_config_is_immutable():
    config = _parse()

    with pytest.raises(dataclasses.FrozenInstanceError):
        config.role = "other"  # type: ignore[misc]


def test_auth_path_defaults_to_method_name():
    assert _parse(auth_method="jwt").auth_path == "jwt"
    assert _parse(auth_method="jwt", auth_path="/jwt-prod/").auth_path == "jwt-prod"


def test_resources_accept_request_equal_to_limit():
    equal = '{"requests": {"cpu": "500m", "memory": "128Mi"}, "limits": {"cpu": "0.5", "memory": "128Mi"}}'

    config = _parse(resources=equal)

    assert config.resources_dict()["requests"] == {"cpu": "500m", "memory": "128Mi"}


def test_secrets_accept_paths_and_specs():
    config = _parse(secrets='{"db.json": "secret/data/db", "api": {"path": "kv/api", "format": "raw", "key": "token"}}')

    assert config.secrets == (
        SecretSpec(name="db.json", path="secret/data/db"),
        SecretSpec(name="api", path="kv/api", format="raw", key="token"),
    )


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("auth_method", "ldap", "Allowed values: kubernetes, jwt, approle"),
        ("role", "airflow worker;rm", "Use a Vault role name"),
        ("volume_size_limit", "-1Mi", "positive Kubernetes quantity"),
        ("volume_size_limit", "0", "positive Kubernetes quantity"),
        ("resources", '{"requests": {"cpu": "lots"}}', "requests.cpu = 'lots' is not a Kubernetes quantity"),
        ("resources", "[1, 2]", "Use a JSON object"),
        ("resources", '{"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}', "requests.cpu = '2' is above limits.cpu"),
        ("resources", '{"requests": {"memory": "1Gi"}, "limits": {"memory": "512Mi"}}', "is above limits.memory"),
        ("resources", '{"request": {}}', "Use a JSON object"),
        ("vault_addr", "vault:8200", "http:// or https://"),
        ("token_expiration_seconds", "300", "at least 600"),
        ("token_expiration_seconds", "ten", "whole number"),
        ("command", "python -m x", "JSON list"),
        ("mount_path", "vault/secrets", "absolute directory path"),
        ("token_file", "../token", "plain file name"),
        ("secrets", '["kv/db"]', "JSON object of file name"),
        ("target_containers", "all,base", "comma-separated list"),
        ("image_pull_policy", "Sometimes", "Always, IfNotPresent, Never"),
        ("run_as_user", "0", "must not be 0"),
        ("approle_secret_id_secret", "just-a-name", "NAME/KEY"),
        ("enabled", "maybe", 'Use "true" or "false"'),
    ],
)
def test_invalid_value_names_key_value_and_fix(key, value, expected):
    with pytest.raises(VaultInitConfigError) as error:
        _parse(**{key: value})

    message = str(error.value)
    assert error.value.key == key
    assert f"[vault_init] {key}" in message
    assert repr(value) in message
    assert expected in message


@pytest.mark.parametrize(
    ("value", "shown", "expected"),
    [
        ('{"db": {"path": "kv/db", "format": "yaml"}}', "'yaml'", "Allowed formats: json, env, raw"),
        ('{"db": {"path": "kv/db", "format": "raw"}}', '"format": "raw"', "raw format writes one key"),
        ('{"db": {"path": "kv db"}}', "'kv db'", "secret's Vault path"),
        ('{"token": "kv/db"}', "'token'", "written by vault-init itself"),
    ],
)
def test_invalid_secret_names_the_entry(value, shown, expected):
    with pytest.raises(VaultInitConfigError) as error:
        _parse(secrets=value)

    message = str(error.value)
    assert error.value.key == "secrets"
    assert "[vault_init] secrets" in message
    assert shown in message
    assert expected in message


def test_unknown_key_is_rejected():
    with pytest.raises(VaultInitConfigError, match="Known keys"):
        _parse(vault_adress=ADDR)


def test_check_complete_names_missing_role():
    config = VaultInitConfig.from_mapping({"vault_addr": ADDR})

    with pytest.raises(VaultInitConfigError, match=r"\[vault_init\] role"):
        config.check_complete()


def test_check_complete_names_missing_approle_reference():
    config = _parse(auth_method="approle", approle_role_id="role-1")

    with pytest.raises(VaultInitConfigError, match="approle_secret_id_secret"):
        config.check_complete()


def test_check_complete_names_missing_address():
    with pytest.raises(VaultInitConfigError, match="vault_addr"):
        VaultInitConfig.from_mapping({"role": "airflow"}).check_complete()


# Per-pod annotations.


def test_annotations_override_and_leave_base_unchanged():
    base = _parse()

    pod_config = base.for_pod({"vault.airflow/role": "billing", "vault.airflow/login-timeout-seconds": "30"})

    assert (pod_config.role, pod_config.login_timeout_seconds) == ("billing", 30)
    assert (base.role, base.login_timeout_seconds) == ("airflow", 120)
    assert pod_config.config_hash != base.config_hash


def test_same_annotations_resolve_once():
    base = _parse()
    annotations = {"vault.airflow/role": "billing", "dag_id": "billing"}

    first = base.for_pod(annotations)

    assert base.for_pod(dict(annotations)) is first
    assert base.for_pod({"vault.airflow/role": "other"}).role == "other"


def test_invalid_annotation_fails_every_time():
    base = _parse()

    for _ in range(2):
        with pytest.raises(VaultInitConfigError, match=r"vault\.airflow/role"):
            base.for_pod({"vault.airflow/role": "bad role!"})


def test_pod_without_annotations_reuses_base():
    base = _parse()

    assert base.for_pod(None) is base
    assert base.for_pod({"team": "billing"}) is base
    assert base.for_pod({"vault.airflow/inject": "true", "vault.airflow/status": "injected"}) is base


def test_secret_annotations_merge_with_configured_secrets():
    base = _parse(secrets='{"db.json": "secret/data/db"}')

    config = base.for_pod(
        {
            "vault.airflow/secret-db.json": "secret/data/other-db",
            "vault.airflow/secret-api": "kv/api",
            "vault.airflow/secret-api-format": "raw",
            "vault.airflow/secret-api-key": "token",
        }
    )

    assert config.secrets == (
        SecretSpec(name="db.json", path="secret/data/other-db"),
        SecretSpec(name="api", path="kv/api", format="raw", key="token"),
    )


def test_secret_format_without_path_is_rejected():
    with pytest.raises(VaultInitConfigError, match="needs the secret's path"):
        _parse().for_pod({"vault.airflow/secret-api-format": "env"})


@pytest.mark.parametrize(
    "annotation", ["vault.airflow/rol", "vault.airflow/enabled", "vault.airflow/inject-by-default"]
)
def test_unknown_annotation_is_rejected(annotation):
    with pytest.raises(VaultInitConfigError) as error:
        _parse().for_pod({annotation: "x"})

    assert f"annotation {annotation}" in str(error.value)
    assert "Unknown key under vault.airflow/" in str(error.value)


def test_annotation_error_names_annotation_origin():
    with pytest.raises(VaultInitConfigError) as error:
        _parse().for_pod({"vault.airflow/auth-method": "token"})

    assert "annotation vault.airflow/auth-method" in str(error.value)
    assert "'token'" in str(error.value)


def test_inject_annotation_controls_injection():
    assert _parse().wants_injection({}) is True
    assert _parse().wants_injection({"vault.airflow/inject": "false"}) is False
    assert _parse(inject_by_default="false").wants_injection({}) is False
    assert _parse(inject_by_default="false").wants_injection({"vault.airflow/inject": "TRUE"}) is True
    assert _parse(enabled="false").wants_injection({"vault.airflow/inject": "true"}) is False
    with pytest.raises(VaultInitConfigError, match=r"vault\.airflow/inject"):
        _parse().wants_injection({"vault.airflow/inject": "sometimes"})


# Airflow's own precedence: environment, _cmd, airflow.cfg, provider defaults.


@pytest.fixture
def airflow_conf(monkeypatch):
    from airflow.configuration import conf

    for key in OPTIONS:
        for suffix in ("", "_CMD", "_SECRET"):
            monkeypatch.delenv(f"AIRFLOW__VAULT_INIT__{key.upper()}{suffix}", raising=False)
    return conf


def test_from_airflow_conf_reads_environment(airflow_conf, monkeypatch):
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__VAULT_ADDR", ADDR)
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__ROLE", "from-env")
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__TOKEN_EXPIRATION_SECONDS", "900")

    config = VaultInitConfig.from_airflow_conf()

    assert (config.vault_addr, config.role, config.token_expiration_seconds) == (ADDR, "from-env", 900)
    assert config.mount_path == "/vault/secrets"


def test_from_airflow_conf_runs_cmd_keys(airflow_conf, monkeypatch):
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__VAULT_ADDR", ADDR)
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__APPROLE_ROLE_ID_CMD", "echo role-id-from-cmd")
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__APPROLE_SECRET_ID_SECRET_CMD", "echo approle/secret-id")

    config = VaultInitConfig.from_airflow_conf()

    assert config.approle_role_id == "role-id-from-cmd"
    assert (config.approle_secret_id_secret.name, config.approle_secret_id_secret.key) == ("approle", "secret-id")


def test_cmd_ignored_for_plain_options(airflow_conf, monkeypatch):
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__VAULT_ADDR", ADDR)
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__ROLE_CMD", "echo from-cmd")

    assert VaultInitConfig.from_airflow_conf().role == ""


def test_environment_wins_over_cmd(airflow_conf, monkeypatch):
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__VAULT_ADDR", ADDR)
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__APPROLE_ROLE_ID", "role-id-from-env")
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__APPROLE_ROLE_ID_CMD", "echo role-id-from-cmd")

    assert VaultInitConfig.from_airflow_conf().approle_role_id == "role-id-from-env"


def test_from_airflow_conf_uses_worker_image(airflow_conf, monkeypatch):
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__VAULT_ADDR", ADDR)
    monkeypatch.setenv("AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_REPOSITORY", "registry.example.com/airflow")
    monkeypatch.setenv("AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_TAG", "3.3.2")

    assert VaultInitConfig.from_airflow_conf().image == "registry.example.com/airflow:3.3.2"


def test_from_airflow_conf_reports_env_value(airflow_conf, monkeypatch):
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__VAULT_ADDR", ADDR)
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__AUTH_METHOD", "userpass")

    with pytest.raises(VaultInitConfigError, match=r"\[vault_init\] auth_method: 'userpass'"):
        VaultInitConfig.from_airflow_conf()
