"""The pods the demo builds, and local directories standing in for their volumes.

A pod is kept as the body the `kubernetes` client sent to the API double. Its `vault-init`
and task containers run on this machine with their env paths mapped into those directories.
"""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path
from typing import Any

from airflow_vault_provider import contract
from tests.support.openbao import JwtSigner

# The mode vault-init gives the token and every secret file.
SECRET_FILE_MODE = 0o440


class DemoError(Exception):
    """Raised when a step fails. The message is the reason printed on the step's line."""


@dataclasses.dataclass
class PodRun:
    """A pod the demo built, and the local directories that stand in for its volumes."""

    label: str
    body: dict[str, Any]
    yaml_path: Path
    volumes: dict[str, Path] = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.body["metadata"].get("namespace") or "default")

    @property
    def service_account(self) -> str:
        return str(self.body["spec"].get("serviceAccountName") or "default")

    def init_container(self, name: str = contract.INIT_CONTAINER_NAME) -> dict[str, Any]:
        for container in self.body["spec"].get("initContainers") or ():
            if container["name"] == name:
                return dict(container)
        raise DemoError(f"pod {self.name} has no init container {name!r}")

    def task_container(self) -> dict[str, Any]:
        containers = self.body["spec"]["containers"]
        return dict(next((c for c in containers if c["name"] == "base"), containers[0]))


def describe_pod(pod: PodRun) -> list[str]:
    """Return the summary lines of a pod: name, init containers, volumes, task env, YAML path."""
    spec = pod.body["spec"]
    init_names = [container["name"] for container in spec.get("initContainers") or ()]
    task = pod.task_container()
    return [
        f"pod {pod.name} in namespace {pod.namespace}, service account {pod.service_account}",
        f"init containers: {', '.join(init_names)}",
        f"volumes: {'; '.join(_describe_volume(volume) for volume in spec.get('volumes') or ())}",
        f"env of task container {task['name']}: {', '.join(_describe_env(var) for var in task.get('env') or ())}",
        f"full pod YAML: {_shown_path(pod.yaml_path)}",
    ]


def _shown_path(path: Path) -> Path:
    """Return ``path`` relative to the working directory when it is inside it, else as it is."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def _describe_volume(volume: dict[str, Any]) -> str:
    if "emptyDir" in volume:
        empty_dir = volume["emptyDir"] or {}
        return f"{volume['name']} (emptyDir, medium {empty_dir.get('medium', 'disk')}, {empty_dir.get('sizeLimit')})"
    projection = service_account_projection(volume)
    if projection is not None:
        return (
            f"{volume['name']} (projected service-account token, audience {projection.get('audience')}, "
            f"{projection.get('expirationSeconds')} s)"
        )
    kind = next((key for key in volume if key != "name"), "unknown")
    return f"{volume['name']} ({kind})"


def _describe_env(var: dict[str, Any]) -> str:
    if "value" in var:
        return f"{var['name']}={var['value']}"
    return f"{var['name']} (from {', '.join(var.get('valueFrom') or {}) or 'nothing'})"


def service_account_projection(volume: dict[str, Any]) -> dict[str, Any] | None:
    for source in (volume.get("projected") or {}).get("sources") or ():
        if "serviceAccountToken" in source:
            return dict(source["serviceAccountToken"])
    return None


def create_volumes(pod: PodRun, root: Path, signer: JwtSigner) -> None:
    """Create a directory under ``root`` per pod volume, with the projected service-account token minted."""
    for volume in pod.body["spec"].get("volumes") or ():
        directory = root / volume["name"]
        directory.mkdir(parents=True)
        pod.volumes[volume["name"]] = directory

        projection = service_account_projection(volume)
        if projection is not None:
            # What the kubelet would write: a token for the pod's service account, signed by
            # the key pair that OpenBao's jwt auth method trusts.
            token = signer.service_account_token(pod.namespace, pod.service_account, projection["audience"])
            (directory / projection["path"]).write_text(token)


def mapped_env(pod: PodRun, container: dict[str, Any]) -> dict[str, str]:
    """Return the container's env with every path under one of its mounts mapped to the local volume."""
    mounts = sorted(
        ((mount["mountPath"].rstrip("/"), pod.volumes[mount["name"]]) for mount in container.get("volumeMounts") or ()),
        key=lambda pair: len(pair[0]),
        reverse=True,
    )
    env = {}
    for var in container.get("env") or ():
        if "value" not in var:
            raise DemoError(
                f"env {var['name']} of container {container['name']} comes from {sorted(var.get('valueFrom') or {})}, "
                "which the demo cannot resolve without a cluster"
            )
        value = str(var["value"])
        for mount_path, directory in mounts:
            if value == mount_path or value.startswith(mount_path + "/"):
                value = str(directory) + value[len(mount_path) :]
                break
        env[var["name"]] = value
    return env


def check_mode(path: Path) -> None:
    if not path.is_file():
        raise DemoError(f"{path.name} is missing: vault-init did not write it")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode != SECRET_FILE_MODE:
        raise DemoError(f"{path.name} has mode {mode:04o}, expected {SECRET_FILE_MODE:04o}")
