"""Idempotency and preservation as properties over generated pods."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from kubernetes.client import models as k8s

from airflow_vault_provider import contract
from airflow_vault_provider.injection import inject_vault_init
from tests.support.pods import serialise, settings

_OURS = {
    contract.INIT_CONTAINER_NAME,
    contract.SECRETS_VOLUME_NAME,
    contract.SA_TOKEN_VOLUME_NAME,
    contract.CA_VOLUME_NAME,
}
_OUR_ENV = {"VAULT_ADDR", "VAULT_TOKEN_FILE", "VAULT_NAMESPACE", "VAULT_CACERT"}

names = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8).map(lambda s: "c" + s)
env_names = st.sampled_from(["A", "B", "PATH_X", "VAULT_ADDR", "VAULT_TOKEN_FILE", "LOG_LEVEL"])
volume_names = st.one_of(names, st.sampled_from(sorted(_OURS - {contract.INIT_CONTAINER_NAME})))


@st.composite
def containers(draw, name_strategy=names):
    mounts = draw(st.lists(st.tuples(volume_names, names), max_size=3, unique_by=lambda m: m[1]))
    env = draw(st.lists(st.tuples(env_names, names), max_size=4, unique_by=lambda e: e[0]))
    return k8s.V1Container(
        name=draw(name_strategy),
        image=draw(st.sampled_from(["busybox:1.36", "registry.example.com/airflow:3.3.2"])),
        env=[k8s.V1EnvVar(name=n, value=v) for n, v in env] or None,
        volume_mounts=[k8s.V1VolumeMount(name=v, mount_path="/m/" + p) for v, p in mounts] or None,
    )


@st.composite
def pods(draw):
    init = draw(st.lists(containers(st.one_of(names, st.just("vault-init"))), max_size=4))
    regular = draw(st.lists(containers(), min_size=0, max_size=3))
    base = draw(containers(st.just("base")))
    position = draw(st.integers(0, len(regular)))
    regular.insert(position, base)
    volumes = draw(st.lists(volume_names, max_size=4))
    annotations = draw(
        st.dictionaries(
            st.sampled_from(["team", "owner", "vault.airflow/role"]), st.sampled_from(["x", "billing"]), max_size=2
        )
    )
    return k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(
            name="p", namespace="airflow", labels={"kubernetes_executor": "True"}, annotations=annotations or None
        ),
        spec=k8s.V1PodSpec(
            init_containers=_unique_by_name(init) or None,
            containers=_unique_by_name(regular),
            volumes=[k8s.V1Volume(name=v, empty_dir=k8s.V1EmptyDirVolumeSource()) for v in volumes] or None,
        ),
    )


def _unique_by_name(items):
    seen = {}
    for item in items:
        seen.setdefault(item.name, item)
    return list(seen.values())


config_strategy = st.builds(
    lambda first, targets, method: settings(init_first=first, target_containers=targets, auth_method=method),
    st.sampled_from(["True", "False"]),
    st.sampled_from(["base", "all"]),
    st.sampled_from(["kubernetes", "jwt"]),
)

_PROPERTY_SETTINGS = hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_PROPERTY_SETTINGS
@given(pod=pods(), config=config_strategy)
def test_injecting_twice_equals_once(pod, config):
    once = inject_vault_init(pod, config)

    assert serialise(inject_vault_init(once, config)) == serialise(once)


@_PROPERTY_SETTINGS
@given(pod=pods(), config=config_strategy)
def test_reinjecting_a_stripped_mark_converges(pod, config):
    # A template copied from an injected pod, without the status annotation, is reconciled
    # by name into the same pod rather than growing a second copy.
    once = inject_vault_init(pod, config)
    copied = serialise(once)
    stripped = inject_vault_init(once, config)
    stripped.metadata.annotations = {
        k: v for k, v in stripped.metadata.annotations.items() if k != contract.ANNOTATION_STATUS
    }

    again = serialise(inject_vault_init(stripped, config))

    assert again == copied


@_PROPERTY_SETTINGS
@given(pod=pods(), config=config_strategy)
def test_exactly_one_of_each_piece(pod, config):
    injected = inject_vault_init(pod, config)

    init_names = [c.name for c in injected.spec.init_containers]
    volume_names_after = [v.name for v in injected.spec.volumes]
    assert init_names.count(contract.INIT_CONTAINER_NAME) == 1
    assert volume_names_after.count(contract.SECRETS_VOLUME_NAME) == 1
    expected_index = 0 if config.init_first else len(init_names) - 1
    assert init_names[expected_index] == contract.INIT_CONTAINER_NAME


@_PROPERTY_SETTINGS
@given(pod=pods(), config=config_strategy)
def test_foreign_pieces_kept_in_order(pod, config):
    before = serialise(pod)["spec"]

    after = serialise(inject_vault_init(pod, config))["spec"]

    def foreign(items):
        return [item for item in items or () if item["name"] not in _OURS]

    assert foreign(after.get("initContainers")) == foreign(before.get("initContainers"))
    assert foreign(after.get("volumes")) == foreign(before.get("volumes"))
    assert [c["name"] for c in after["containers"]] == [c["name"] for c in before["containers"]]
    for old, new in zip(before["containers"], after["containers"], strict=True):
        assert foreign(new.get("volumeMounts")) == foreign(old.get("volumeMounts"))
        old_env = [e for e in old.get("env", ()) if e["name"] not in _OUR_ENV]
        new_env = [e for e in new.get("env", ()) if e["name"] not in _OUR_ENV]
        assert new_env == old_env
