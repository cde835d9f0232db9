"""Vault arguments of VaultKubernetesPodOperator: checked at DAG parse, or at task start when templated."""

from __future__ import annotations

import pytest

from airflow_vault_provider.config import VaultInitConfigError
from airflow_vault_provider.operators.vault_arguments import is_templated, vault_annotations
from airflow_vault_provider.operators.vault_pod import VaultKubernetesPodOperator
from tests.support.operator_task import TASK_IMAGE, task_context, vault_conf

__all__ = ["vault_conf"]


def make_operator(**kwargs) -> VaultKubernetesPodOperator:
    return VaultKubernetesPodOperator(task_id="fetch", image=TASK_IMAGE, namespace="tasks", **kwargs)


def annotations_of(**kwargs) -> dict[str, str]:
    arguments = {"role": None, "secrets": None, "auth_method": None, "inject": True, "settings": None, **kwargs}
    return vault_annotations(**arguments)[0]


def test_annotations_from_arguments():
    annotations = annotations_of(
        role="etl-reader",
        auth_method="jwt",
        secrets={"db.json": "secret/data/etl/db", "token.txt": {"path": "kv/api", "format": "raw", "key": "token"}},
        settings={"token_file": "vault-token", "login_timeout_seconds": 30, "init_first": False},
    )

    assert annotations == {
        "vault.airflow/inject": "true",
        "vault.airflow/role": "etl-reader",
        "vault.airflow/auth-method": "jwt",
        "vault.airflow/secret-db.json": "secret/data/etl/db",
        "vault.airflow/secret-token.txt": "kv/api",
        "vault.airflow/secret-token.txt-format": "raw",
        "vault.airflow/secret-token.txt-key": "token",
        "vault.airflow/token-file": "vault-token",
        "vault.airflow/login-timeout-seconds": "30",
        "vault.airflow/init-first": "false",
    }


def test_json_valued_settings():
    annotations = annotations_of(
        settings={"resources": {"limits": {"memory": "64Mi"}}, "command": ["airflow-vault-init"]}
    )

    assert annotations["vault.airflow/resources"] == '{"limits": {"memory": "64Mi"}}'
    assert annotations["vault.airflow/command"] == '["airflow-vault-init"]'


def test_secrets_from_rendered_json():
    annotations = annotations_of(secrets='{"db.json": "secret/data/etl/db"}')

    assert annotations["vault.airflow/secret-db.json"] == "secret/data/etl/db"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{{ params.role }}", True),
        ("{% if x %}a{% endif %}", True),
        ({"db.json": "secret/data/{{ ds }}"}, True),
        ({"db.json": {"path": "{{ params.path }}"}}, True),
        ("etl-reader", False),
        ({"db.json": "secret/data/etl/db"}, False),
        (None, False),
    ],
)
def test_is_templated(value, expected):
    assert is_templated(value) is expected


@pytest.mark.parametrize(
    ("arguments", "argument", "fix"),
    [
        ({"vault_role": "etl reader"}, "vault_role", "Use a Vault role name"),
        ({"vault_auth_method": "ldap"}, "vault_auth_method", "Allowed values: kubernetes, jwt, approle"),
        ({"vault_secrets": {"db.json": "/"}}, "vault_secrets", "Use the secret's Vault path"),
        ({"vault_secrets": {"db.json": {"path": "kv/db", "format": "raw"}}}, "vault_secrets", "name it with key"),
        ({"vault_secrets": {"db.json": {"path": "kv/db", "format": "yaml"}}}, "vault_secrets", "Allowed formats"),
        ({"vault_settings": {"login_timeout_seconds": 0}}, "vault_settings['login_timeout_seconds']", "at least 1"),
        ({"vault_settings": {"vault_addr": "vault:8200"}}, "vault_settings['vault_addr']", "http:// or https://"),
    ],
)
def test_static_value_fails_at_parse(arguments, argument, fix):
    with pytest.raises(VaultInitConfigError) as raised:
        make_operator(**arguments)

    message = str(raised.value)
    assert f"{argument} of task 'fetch'" in message
    assert fix in message


@pytest.mark.parametrize(
    ("arguments", "fix"),
    [
        ({"vault_settings": {"enabled": False}}, "Only the deployment sets enabled"),
        ({"vault_settings": {"inject_by_default": False}}, "Only the deployment sets enabled"),
        ({"vault_settings": {"vault_token": "x"}}, "Allowed keys: vault_addr"),
        ({"vault_settings": {"role": "a"}, "vault_role": "b"}, "set it in one place only"),
        ({"vault_secrets": {"api-key": "kv/api"}}, "does not end in -format or -key"),
        ({"vault_secrets": {"x" * 50: "kv/api"}}, "at most 49"),
        ({"vault_secrets": {"db.json": {"path": "kv/db", "mode": "0400"}}}, "Unknown fields ['mode']"),
        ({"vault_secrets": ["kv/db"]}, "Use a mapping of file name to secret path"),
        ({"vault_secrets": {"db.json": "secret/data/db", "token": "secret/data/x"}}, "written by vault-init itself"),
        ({"vault_inject": "yes"}, "Use True or False"),
    ],
)
def test_bad_argument_fails_at_parse(arguments, fix):
    with pytest.raises(VaultInitConfigError, match="Invalid Vault init setting") as raised:
        make_operator(**arguments)

    assert fix in str(raised.value)


def test_templated_values_wait_for_rendering():
    operator = make_operator(
        vault_role="{{ params.role }}",
        vault_secrets={"db.json": "{{ params.path }}", "api.json": "secret/data/etl/api"},
    )

    assert operator.vault_role == "{{ params.role }}"
    assert "vault_role" in operator.template_fields
    assert "vault_secrets" in operator.template_fields


def test_static_secret_checked_beside_templated_one():
    with pytest.raises(VaultInitConfigError, match="Use the secret's Vault path"):
        make_operator(vault_role="{{ params.role }}", vault_secrets={"db.json": "{{ params.path }}", "x.json": "//"})


def test_rendered_bad_role_fails_at_task_start(vault_conf):
    operator = make_operator(vault_role="{{ params.role }}", vault_secrets={"db.json": "{{ params.path }}"})
    context = {**task_context(), "params": {"role": "etl reader", "path": "secret/data/etl/db"}}

    operator.render_template_fields(context)

    assert operator.vault_role == "etl reader"
    assert operator.vault_secrets == {"db.json": "secret/data/etl/db"}
    with pytest.raises(VaultInitConfigError) as raised:
        operator.build_pod_request_obj(context)
    assert "vault_role of task 'fetch' (annotation vault.airflow/role): 'etl reader'" in str(raised.value)


def test_rendered_bad_secret_fails_at_task_start(vault_conf):
    operator = make_operator(vault_role="etl-reader", vault_secrets={"db.json": "{{ params.path }}"})
    context = {**task_context(), "params": {"path": "secret data/db"}}

    operator.render_template_fields(context)

    with pytest.raises(VaultInitConfigError, match="vault_secrets of task 'fetch'"):
        operator.build_pod_request_obj(context)


def test_parse_reads_no_config(monkeypatch):
    # A DAG file must parse where [vault_init] is unset or broken, e.g. on a developer laptop.
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__VAULT_ADDR", "not a url")
    monkeypatch.setenv("AIRFLOW__VAULT_INIT__RESOURCES", "{")

    operator = make_operator(vault_role="etl-reader", vault_secrets={"db.json": "secret/data/etl/db"})

    assert operator.vault_inject is True
