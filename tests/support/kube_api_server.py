"""A loopback double of the Kubernetes pod API, for running the real executor and operator.

No API server runs on the test machines. `KubeApiServerDouble` serves the few core/v1 calls
that the KubernetesExecutor and KubernetesPodOperator make, over real HTTP on 127.0.0.1, so
the real `kubernetes` and `kubernetes_asyncio` clients serialise and send every pod exactly
as they would to a cluster. It records each created pod body as received.

Pod lifecycle of the double: a created pod is `Running` until it is first read by name,
and from then on `Succeeded` with every container terminated with exit code 0. That lets a
second operator find a running pod by label (reattach) and lets the first one finish.
A watch request ends with an empty stream after a short pause.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.loopback import LOOPBACK, LoopbackHttpServer

__all__ = ["LOOPBACK", "KubeApiServerDouble"]

# How long a watch request stays open before it ends with no events; keeps the stock
# executor's watcher processes from spinning while a test runs.
_WATCH_PAUSE_SECONDS = 0.5
_POD_PATH_PARTS = 5  # api, v1, namespaces, <namespace>, pods


class KubeApiServerDouble(LoopbackHttpServer):
    """A recording Kubernetes pod API on 127.0.0.1, run by `start()`/`stop()` or as a context manager."""

    def __init__(self) -> None:
        self.created_pods: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.unhandled: list[str] = []
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()
        super().__init__(_handler_for(self))
        # HTTP/1.1 keep-alive connections hold their handler threads, so daemon threads let stop()
        # return without waiting for the clients to disconnect.
        self._server.daemon_threads = True

    def write_kubeconfig(self, path: Path, namespace: str = "default") -> Path:
        """Write a kubeconfig that points the real clients at this double."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "double", "cluster": {"server": self.url}}],
            "users": [{"name": "double", "user": {"token": "kube-api-double-not-a-credential"}}],
            "contexts": [
                {"name": "double", "context": {"cluster": "double", "user": "double", "namespace": namespace}}
            ],
            "current-context": "double",
        }
        path.write_text(json.dumps(config))
        return path

    def pods_by_task(self) -> dict[str, dict[str, Any]]:
        """Return the created pod bodies keyed by their `task_id` annotation."""
        with self._lock:
            return {pod["metadata"]["annotations"]["task_id"]: pod for pod in self.created_pods}

    # Request handling, called from the server threads.

    def create(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.created_pods.append(copy.deepcopy(body))
            pod = copy.deepcopy(body)
            metadata = pod.setdefault("metadata", {})
            metadata.update(namespace=namespace, uid=str(uuid.uuid4()), resourceVersion="1")
            metadata.setdefault("labels", {})
            pod["status"] = _status(pod, "Running")
            self.pods[(namespace, metadata["name"])] = pod
            return pod

    def read(self, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            pod = self.pods.get((namespace, name))
            if pod is None:
                return None
            if pod["status"]["phase"] == "Running":
                pod["status"] = _status(pod, "Succeeded")
            return copy.deepcopy(pod)

    def list(self, namespace: str | None, label_selector: str) -> list[dict[str, Any]]:
        """Return the pods in ``namespace`` (all namespaces for None) that match ``label_selector``."""
        with self._lock:
            return [
                copy.deepcopy(pod)
                for (pod_namespace, _), pod in self.pods.items()
                if namespace in (None, pod_namespace) and _matches(pod["metadata"].get("labels") or {}, label_selector)
            ]

    def patch(self, namespace: str, name: str, body: dict[str, Any]) -> dict[str, Any] | None:
        with self._lock:
            pod = self.pods.get((namespace, name))
            if pod is None:
                return None
            labels = (body.get("metadata") or {}).get("labels") or {}
            pod["metadata"]["labels"].update(labels)
            return copy.deepcopy(pod)

    def delete(self, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            pod = self.pods.pop((namespace, name), None)
            if pod is not None:
                self.deleted.append(name)
            return pod


def _status(pod: dict[str, Any], phase: str) -> dict[str, Any]:
    def container_status(container: dict[str, Any]) -> dict[str, Any]:
        if phase == "Running":
            state: dict[str, Any] = {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
        else:
            state = {"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": "2026-01-01T00:00:01Z"}}
        return {
            "name": container["name"],
            "image": container.get("image", ""),
            "imageID": "",
            "ready": phase == "Running",
            "restartCount": 0,
            "state": state,
        }

    spec = pod.get("spec") or {}
    return {
        "phase": phase,
        "initContainerStatuses": [
            container_status(container) | {"ready": True, "state": {"terminated": {"exitCode": 0}}}
            for container in spec.get("initContainers") or ()
        ],
        "containerStatuses": [container_status(container) for container in spec.get("containers") or ()],
    }


def _matches(labels: dict[str, str], selector: str) -> bool:
    """Evaluate the equality-based label selectors the clients send (`k=v`, `k!=v`, `!k`, `k`)."""
    for requirement in filter(None, (part.strip() for part in selector.split(","))):
        if "!=" in requirement:
            key, value = requirement.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in requirement:
            key, value = requirement.split("=", 1)
            if labels.get(key.rstrip("=")) != value:
                return False
        elif requirement.startswith("!"):
            if requirement[1:] in labels:
                return False
        elif requirement not in labels:
            return False
    return True


def _pod_list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items}


def _handler_for(api: KubeApiServerDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PATCH(self) -> None:
            self._route("PATCH")

        def do_DELETE(self) -> None:
            self._route("DELETE")

        def _route(self, method: str) -> None:
            url = urlsplit(self.path)
            parts = url.path.strip("/").split("/")
            query = parse_qs(url.query)
            body = self._body()
            label_selector = query.get("labelSelector", [""])[0]
            if method == "GET" and query.get("watch", [""])[0].lower() in ("1", "true"):
                time.sleep(_WATCH_PAUSE_SECONDS)
                self._send_text(200, "", "application/json")
                return
            if parts == ["api", "v1", "pods"] and method == "GET":
                self._send(200, _pod_list(api.list(None, label_selector)))
                return
            if parts[:3] != ["api", "v1", "namespaces"] or len(parts) < _POD_PATH_PARTS:
                self._not_handled(method)
                return

            namespace, kind, rest = parts[3], parts[4], parts[5:]
            if kind == "events" and method == "GET":
                self._send(200, {"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": []})
            elif kind != "pods":
                self._not_handled(method)
            elif not rest and method == "POST":
                self._send(201, api.create(namespace, body))
            elif not rest and method == "GET":
                self._send(200, _pod_list(api.list(namespace, label_selector)))
            elif len(rest) == 2 and rest[1] == "log" and method == "GET":
                self._send_text(200, "")
            elif len(rest) == 1:
                self._pod_by_name(method, namespace, rest[0], body)
            else:
                self._not_handled(method)

        def _pod_by_name(self, method: str, namespace: str, name: str, body: dict[str, Any]) -> None:
            if method == "GET":
                pod = api.read(namespace, name)
            elif method == "PATCH":
                pod = api.patch(namespace, name, body)
            elif method == "DELETE":
                pod = api.delete(namespace, name)
            else:
                self._not_handled(method)
                return
            if pod is None:
                self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404})
            else:
                self._send(200, pod)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length)) if length else {}

        def _not_handled(self, method: str) -> None:
            api.unhandled.append(f"{method} {self.path}")
            self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404})

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            self._send_text(status, json.dumps(payload), "application/json")

        def _send_text(self, status: int, text: str, content_type: str = "text/plain") -> None:
            data = text.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                # A watcher process was terminated while its watch was open.
                self.close_connection = True

    return Handler
