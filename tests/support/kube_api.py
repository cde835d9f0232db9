"""A loopback double of the Kubernetes pod API, for running the real operator end to end.

No API server runs on the test machines. This double serves the few core/v1 endpoints that
KubernetesPodOperator calls, over real HTTP on 127.0.0.1, so the real `kubernetes` client
serialises and sends every pod exactly as it would to a cluster. It records each created
pod body as received.

Pod lifecycle of the double: a created pod is `Running` until it is first read by name,
and from then on `Succeeded` with every container terminated with exit code 0. That lets a
second operator find a running pod by label (reattach) and lets the first one finish.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

_POD_PATH_PARTS = 5  # api, v1, namespaces, <namespace>, pods


class KubeApiDouble:
    """A recording Kubernetes pod API on 127.0.0.1; use as a context manager."""

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.unhandled: list[str] = []
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> KubeApiDouble:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def write_kubeconfig(self, path: Path, namespace: str = "default") -> Path:
        """Write a kubeconfig that points the `kubernetes` client at this double."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "double", "cluster": {"server": self.url}}],
            "users": [{"name": "double", "user": {}}],
            "contexts": [
                {"name": "double", "context": {"cluster": "double", "user": "double", "namespace": namespace}}
            ],
            "current-context": "double",
        }
        path.write_text(json.dumps(config))
        return path

    # Request handling, called from the server threads.

    def create(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.created.append(copy.deepcopy(body))
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

    def list(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                copy.deepcopy(pod)
                for (pod_namespace, _), pod in self.pods.items()
                if pod_namespace == namespace and _matches(pod["metadata"].get("labels") or {}, label_selector)
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
    """Evaluate the equality-based label selectors the operator sends (`k=v`, `k!=v`, `!k`, `k`)."""
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


def _handler_for(api: KubeApiDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
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
                items = api.list(namespace, query.get("labelSelector", [""])[0])
                self._send(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items})
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
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
