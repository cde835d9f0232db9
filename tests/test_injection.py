"""The pod contract, item by item, on pods built by the real PodGenerator.construct_pod."""

from __future__ import annotations

import copy

import pytest
from kubernetes.client import models as k8s

from airflow_vault_provider import contract
from airflow_vault_provider.config import VaultInitConfigError
from airflow_vault_provider.injection import inject_vault_init, is_injected
from tests.support.pods import (
    NEWEST_KUBERNETES,
    OLDEST_KUBERNETES,
    WORKER_IMAGE,
    annotated_override,
    container,
    env_of,
    git_sync_template,
    init_container,
    serialise,
    settings,
    validate_pod,
    worker_pod,
)


def _mounts(c: k8s.V1Container) -> dict[str, k8s.V1VolumeMount]:
    return {mount.name: mount for mount in c.volume_mounts or ()}


def _volume(pod: k8s.V1Pod, name: str) -> k8s.V1Volume:
    matches = [volume for volume in pod.spec.volumes if volume.name == name]
    assert len(matches) == 1, f"expected one volume {name}, found {len(matches)}"
    return matches[0]


# 1. One init container named vault-init, first by default, last when configured.


def test_init_container_first_by_default():
    pod = inject_vault_init(worker_pod(), settings())

    names = [c.name for c in pod.spec.init_containers]
    assert names == ["vault-init", "git-sync-init", "wait-for-db"]


def test_init_container_last_when_not_init_first():
    pod = inject_vault_init(worker_pod(), settings(init_first="False"))

    names = [c.name for c in pod.spec.init_containers]
    assert names == ["git-sync-init", "wait-for-db", "vault-init"]


def test_init_container_uses_worker_image_when_image_empty():
    pod = inject_vault_init(worker_pod(), settings())

    assert init_container(pod).image == WORKER_IMAGE
    assert init_container(pod).command == ["python", "-m", "airflow_vault_provider.init"]


def test_init_container_uses_configured_image_and_command():
    config = settings(image="registry.example.com/vault-init:1", command='["airflow-vault-init"]')
    pod = inject_vault_init(worker_pod(), config)

    assert init_container(pod).image == "registry.example.com/vault-init:1"
    assert init_container(pod).command == ["airflow-vault-init"]


def test_operator_pod_without_image_is_rejected():
    # A pod that is not an executor worker runs the DAG author's image, which need not
    # contain this provider, so the worker image cannot be guessed from it.
    pod = k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(name="kpo-pod", namespace="jobs"),
        spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="base", image="python:3.12-slim")]),
    )

    with pytest.raises(VaultInitConfigError, match=r"image") as error:
        inject_vault_init(pod, settings())
    assert "worker_container_repository" in str(error.value)


def test_worker_pod_without_image_names_worker_settings():
    pod = worker_pod()
    container(pod, "base").image = None

    with pytest.raises(VaultInitConfigError, match="has no image either") as error:
        inject_vault_init(pod, settings())
    assert "worker_container_repository" in str(error.value)


# 2. One in-memory volume with a size limit.


def test_secrets_volume_is_memory_backed_with_size_limit():
    pod = inject_vault_init(worker_pod(), settings(volume_size_limit="2Mi"))

    volume = _volume(pod, "vault-secrets")
    assert volume.empty_dir.medium == "Memory"
    assert volume.empty_dir.size_limit == "2Mi"


def test_template_volumes_are_kept_in_order():
    pod = inject_vault_init(worker_pod(), settings())

    names = [volume.name for volume in pod.spec.volumes]
    assert names[:2] == ["dags", "logs"]
    assert names[2:] == ["vault-secrets", "vault-sa-token"]


# 3. Mounted read-write into vault-init, read-only into the target containers.


def test_mount_modes_in_init_and_base():
    pod = inject_vault_init(worker_pod(), settings())

    init_mount = _mounts(init_container(pod))["vault-secrets"]
    base_mount = _mounts(container(pod, "base"))["vault-secrets"]
    assert init_mount.mount_path == "/vault/secrets"
    assert not init_mount.read_only
    assert base_mount.mount_path == "/vault/secrets"
    assert base_mount.read_only is True
    assert "vault-secrets" not in _mounts(container(pod, "log-shipper"))


def test_template_mounts_are_kept_before_ours():
    pod = inject_vault_init(worker_pod(), settings())

    names = [mount.name for mount in container(pod, "base").volume_mounts]
    assert names == ["dags", "logs", "vault-secrets"]


def test_all_targets_every_regular_container():
    pod = inject_vault_init(worker_pod(), settings(target_containers="all"))

    for name in ("base", "log-shipper"):
        assert _mounts(container(pod, name))["vault-secrets"].read_only is True
        assert env_of(container(pod, name))["VAULT_TOKEN_FILE"] == "/vault/secrets/token"


def test_named_targets_get_access():
    pod = inject_vault_init(worker_pod(), settings(target_containers="log-shipper"))

    assert "vault-secrets" in _mounts(container(pod, "log-shipper"))
    assert "vault-secrets" not in _mounts(container(pod, "base"))


def test_unknown_target_container_is_rejected():
    with pytest.raises(VaultInitConfigError, match="no container named 'sidecar'") as error:
        inject_vault_init(worker_pod(), settings(target_containers="base,sidecar"))
    assert error.value.key == "target_containers"


def test_mount_path_taken_by_template_is_rejected():
    template = git_sync_template()
    template.spec.containers[0].volume_mounts.append(k8s.V1VolumeMount(name="dags", mount_path="/vault/secrets"))

    with pytest.raises(VaultInitConfigError, match="already mounts another volume"):
        inject_vault_init(worker_pod(template), settings())


# 4. VAULT_ADDR and the token-file variable on the task container.


def test_task_container_gets_vault_addr_and_token_file():
    pod = inject_vault_init(worker_pod(), settings(mount_path="/run/vault", token_file="vault-token"))

    env = env_of(container(pod, "base"))
    assert env["VAULT_ADDR"] == "https://vault.vault.svc:8200"
    assert env["VAULT_TOKEN_FILE"] == "/run/vault/vault-token"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"


def test_existing_vault_addr_is_replaced_in_place():
    template = git_sync_template()
    template.spec.containers[0].env.insert(0, k8s.V1EnvVar(name="VAULT_ADDR", value="http://old:8200"))

    pod = inject_vault_init(worker_pod(template), settings())

    names = [var.name for var in container(pod, "base").env]
    assert names.count("VAULT_ADDR") == 1
    assert names[0] == "VAULT_ADDR"
    assert env_of(container(pod, "base"))["VAULT_ADDR"] == "https://vault.vault.svc:8200"


def test_namespace_and_ca_reach_task_container():
    pod = inject_vault_init(worker_pod(), settings(vault_namespace="team-a", ca_cert_secret="vault-ca"))

    env = env_of(container(pod, "base"))
    assert env["VAULT_NAMESPACE"] == "team-a"
    assert env["VAULT_CACERT"] == contract.CA_DIR + "/ca.crt"
    assert _mounts(container(pod, "base"))["vault-ca"].read_only is True
    assert _volume(pod, "vault-ca").secret.secret_name == "vault-ca"


# 5. Identity: a projected token for kubernetes/jwt, a Secret reference for approle.


@pytest.mark.parametrize("method", ["kubernetes", "jwt"])
def test_projected_token_only_in_vault_init(method):
    pod = inject_vault_init(worker_pod(), settings(auth_method=method, token_audience="vault-prod"))

    projection = _volume(pod, "vault-sa-token").projected.sources[0].service_account_token
    assert projection.audience == "vault-prod"
    assert projection.expiration_seconds == 600
    assert _mounts(init_container(pod))["vault-sa-token"].read_only is True
    for c in pod.spec.containers:
        assert "vault-sa-token" not in _mounts(c)
    env = env_of(init_container(pod))
    assert env["VAULT_INIT_AUTH_METHOD"] == method
    assert env["VAULT_INIT_AUTH_PATH"] == method
    assert env["VAULT_INIT_ROLE"] == "airflow-worker"


def test_approle_secret_id_is_a_secret_reference():
    config = settings(
        auth_method="approle",
        approle_role_id="9d6b1c4e-role-id",
        approle_secret_id_secret="airflow-approle/secret-id",
    )
    pod = inject_vault_init(worker_pod(), config)

    env = env_of(init_container(pod))
    assert env["VAULT_INIT_APPROLE_ROLE_ID"] == "9d6b1c4e-role-id"
    reference = env["VAULT_INIT_APPROLE_SECRET_ID"].secret_key_ref
    assert (reference.name, reference.key) == ("airflow-approle", "secret-id")
    assert not any(volume.name == "vault-sa-token" for volume in pod.spec.volumes)


def test_secrets_are_passed_to_vault_init():
    config = settings(secrets='{"db.json": "secret/data/db", "api": {"path": "kv/api", "format": "raw", "key": "k"}}')
    pod = inject_vault_init(worker_pod(), config)

    assert env_of(init_container(pod))["VAULT_INIT_SECRETS"] == (
        '{"api":{"format":"raw","key":"k","path":"kv/api"},"db.json":{"format":"json","path":"secret/data/db"}}'
    )


# 6. A hardened vault-init that shares file ownership with the task container.


def test_vault_init_is_hardened():
    pod = inject_vault_init(worker_pod(), settings())

    init = init_container(pod)
    context = init.security_context
    assert context.run_as_non_root is True
    assert context.read_only_root_filesystem is True
    assert context.allow_privilege_escalation is False
    assert context.capabilities.drop == ["ALL"]
    assert context.seccomp_profile.type == "RuntimeDefault"
    assert init.termination_message_policy == "FallbackToLogsOnError"
    assert init.resources.requests == {"cpu": "50m", "memory": "64Mi"}
    assert init.resources.limits == {"cpu": "500m", "memory": "128Mi"}


def test_vault_init_takes_task_container_ids():
    pod = inject_vault_init(worker_pod(git_sync_template(run_as_user=1234, run_as_group=5678)), settings())

    context = init_container(pod).security_context
    assert (context.run_as_user, context.run_as_group) == (1234, 5678)


def test_vault_init_falls_back_to_pod_level_user():
    pod = inject_vault_init(worker_pod(git_sync_template(run_as_user=None, run_as_group=None)), settings())

    assert init_container(pod).security_context.run_as_user == 50000


def test_root_task_container_keeps_vault_init_non_root():
    pod = inject_vault_init(worker_pod(git_sync_template(run_as_user=0, run_as_group=0)), settings())

    context = init_container(pod).security_context
    assert context.run_as_user is None
    assert context.run_as_non_root is True
    assert context.run_as_group == 0


def test_configured_ids_win():
    pod = inject_vault_init(worker_pod(), settings(run_as_user="2000", run_as_group="3000"))

    context = init_container(pod).security_context
    assert (context.run_as_user, context.run_as_group) == (2000, 3000)


# 7. Marked, idempotent, reconciled by name.


def test_pod_is_marked_with_status_and_hash():
    config = settings()
    pod = inject_vault_init(worker_pod(), config)

    assert pod.metadata.annotations["vault.airflow/status"] == "injected"
    assert pod.metadata.annotations["vault.airflow/config-hash"] == config.config_hash
    assert is_injected(pod)


def test_injecting_twice_changes_nothing():
    config = settings()
    once = inject_vault_init(worker_pod(), config)
    before = serialise(once)

    twice = inject_vault_init(once, config)

    assert serialise(twice) == before


def test_template_vault_init_and_volume_are_reconciled():
    template = git_sync_template()
    template.spec.init_containers.append(k8s.V1Container(name="vault-init", image="hashicorp/vault:1.17"))
    template.spec.volumes.append(k8s.V1Volume(name="vault-secrets", empty_dir=k8s.V1EmptyDirVolumeSource()))
    template.spec.containers[0].volume_mounts.append(
        k8s.V1VolumeMount(name="vault-secrets", mount_path="/var/run/secrets/vendor")
    )

    pod = inject_vault_init(worker_pod(template), settings())

    assert [c.name for c in pod.spec.init_containers].count("vault-init") == 1
    assert init_container(pod).image == WORKER_IMAGE
    assert [volume.name for volume in pod.spec.volumes].count("vault-secrets") == 1
    assert _volume(pod, "vault-secrets").empty_dir.medium == "Memory"
    base_mounts = [m for m in container(pod, "base").volume_mounts if m.name == "vault-secrets"]
    assert [(m.mount_path, m.read_only) for m in base_mounts] == [("/vault/secrets", True)]


def test_saved_pod_with_other_settings_is_reconciled():
    saved = inject_vault_init(worker_pod(), settings(role="old-role"))

    pod = inject_vault_init(saved, settings(role="new-role"))

    assert [c.name for c in pod.spec.init_containers].count("vault-init") == 1
    assert env_of(init_container(pod))["VAULT_INIT_ROLE"] == "new-role"
    assert pod.metadata.annotations["vault.airflow/config-hash"] == settings(role="new-role").config_hash
    assert serialise(pod) == serialise(inject_vault_init(worker_pod(), settings(role="new-role")))


def test_config_hash_ignores_deployment_switches():
    assert settings(inject_by_default="False").config_hash == settings().config_hash
    assert settings(enabled="False").config_hash == settings().config_hash
    assert settings(role="other").config_hash != settings().config_hash


def test_input_pod_is_not_modified():
    pod = worker_pod()
    before = copy.deepcopy(serialise(pod))

    inject_vault_init(pod, settings())

    assert serialise(pod) == before


# 8. Opting out leaves the pod untouched.


def test_inject_false_leaves_pod_untouched():
    pod = worker_pod(override=annotated_override({"vault.airflow/inject": "false"}))

    assert inject_vault_init(pod, settings()) is pod
    assert "vault-init" not in [c.name for c in pod.spec.init_containers]


def test_disabled_leaves_pod_untouched():
    pod = worker_pod()

    assert inject_vault_init(pod, settings(enabled="False")) is pod


def test_opt_in_mode_needs_inject_true():
    config = settings(inject_by_default="False")

    assert inject_vault_init(worker_pod(), config).metadata.annotations.get("vault.airflow/status") is None
    opted_in = worker_pod(override=annotated_override({"vault.airflow/inject": "true"}))
    assert is_injected(inject_vault_init(opted_in, config))


# Per-pod annotations reach the injected pod.


def test_annotations_override_settings():
    override = annotated_override(
        {
            "vault.airflow/role": "billing-reader",
            "vault.airflow/auth-method": "jwt",
            "vault.airflow/secret-db.json": "secret/data/billing/db",
            "vault.airflow/secret-api.env": "secret/data/billing/api",
            "vault.airflow/secret-api.env-format": "env",
        }
    )
    pod = inject_vault_init(worker_pod(override=override), settings())

    env = env_of(init_container(pod))
    assert env["VAULT_INIT_ROLE"] == "billing-reader"
    assert env["VAULT_INIT_AUTH_METHOD"] == "jwt"
    assert env["VAULT_INIT_AUTH_PATH"] == "jwt"
    assert env["VAULT_INIT_SECRETS"] == (
        '{"api.env":{"format":"env","path":"secret/data/billing/api"},'
        '"db.json":{"format":"json","path":"secret/data/billing/db"}}'
    )


def test_invalid_annotation_names_key_and_value():
    override = annotated_override({"vault.airflow/role": "bad role!"})

    with pytest.raises(VaultInitConfigError) as error:
        inject_vault_init(worker_pod(override=override), settings())
    assert "annotation vault.airflow/role" in str(error.value)
    assert "'bad role!'" in str(error.value)


def test_missing_role_is_reported_for_the_pod():
    with pytest.raises(VaultInitConfigError, match="airflow/billing-extract") as error:
        inject_vault_init(worker_pod(), settings(role=""))
    assert error.value.key == "role"


# Every injected pod is a valid Pod for the oldest and newest supported Kubernetes.


@pytest.mark.parametrize("kubernetes_version", [OLDEST_KUBERNETES, NEWEST_KUBERNETES])
@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"auth_method": "jwt", "init_first": "False", "target_containers": "all"},
        {
            "auth_method": "approle",
            "approle_role_id": "role-id-1",
            "approle_secret_id_secret": "approle/secret-id",
            "ca_cert_secret": "vault-ca",
            "vault_namespace": "team-a",
            "tls_server_name": "vault.example.com",
            "secrets": '{"db.json": "secret/data/db"}',
            "run_as_user": "1000",
        },
    ],
    ids=["kubernetes", "jwt-all-last", "approle-ca-secrets"],
)
def test_injected_pod_matches_official_schema(kubernetes_version, overrides):
    pod = inject_vault_init(worker_pod(), settings(**overrides))

    validate_pod(pod, kubernetes_version)


# Pieces are built once per settings and cloned: pods never share a mutable piece.


def _model_ids(value, seen=None):
    seen = set() if seen is None else seen
    if hasattr(type(value), "openapi_types"):
        seen.add(id(value))
        for field in value.openapi_types:
            _model_ids(getattr(value, field), seen)
    elif isinstance(value, (list, dict)):
        seen.add(id(value))
        for item in value.values() if isinstance(value, dict) else value:
            _model_ids(item, seen)
    return seen


def test_injected_pieces_are_not_shared_between_pods():
    config = settings(secrets='{"db.json": "secret/data/db"}')
    first = inject_vault_init(worker_pod(), config)
    second = inject_vault_init(worker_pod(), config)

    def ours(pod):
        ids = _model_ids(init_container(pod))
        for volume in pod.spec.volumes[-2:]:
            ids |= _model_ids(volume)
        ids |= _model_ids(container(pod, "base").env)
        return ids

    assert not ours(first) & ours(second)


def test_changing_one_pod_leaves_the_next_alone():
    config = settings()
    first = inject_vault_init(worker_pod(), config)
    init_container(first).env.append(k8s.V1EnvVar(name="EXTRA", value="1"))
    init_container(first).security_context.capabilities.drop.append("NET_RAW")
    init_container(first).resources.limits["memory"] = "1Gi"

    second = inject_vault_init(worker_pod(), config)

    assert "EXTRA" not in env_of(init_container(second))
    assert init_container(second).security_context.capabilities.drop == ["ALL"]
    assert init_container(second).resources.limits["memory"] == "128Mi"
