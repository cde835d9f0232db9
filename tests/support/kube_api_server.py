"""A loopback double of the Kubernetes API server, for driving the real executor loop.

No API server runs on the test machines, so `KubeApiServerDouble` answers the few calls the
KubernetesExecutor makes: it records every pod creation body (as the real `kubernetes` and
`kubernetes_asyncio` clients serialise it), answers pod watches with an empty stream after
a short pause, and lists no pods. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
# How long a watch request stays open before it ends with no events; keeps the stock
# watcher processes from spinning while a test runs.
_WATCH_PAUSE_SECONDS = 0.5


class KubeApiServerDouble:
    """Records `POST /api/v1/namespaces/<ns>/pods` bodies; answers watches and lists empty."""

    def __init__(self) -> None:
        self.created_pods: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((LOOPBACK, 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> KubeApiServerDouble:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

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

    def _record(self, body: dict[str, Any]) -> None:
        with self._lock:
            self.created_pods.append(body)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.split("?")[0].endswith("/pods"):
                    double._record(body)
                    created = {**body, "metadata": {**body.get("metadata", {}), "resourceVersion": "1"}}
                    self._send(201, created)
                else:
                    self._send(404, {"kind": "Status", "status": "Failure", "message": "not served by the double"})

            def do_GET(self) -> None:
                if "watch=" in self.path.lower():
                    time.sleep(_WATCH_PAUSE_SECONDS)
                    self._send(200, None)
                    return
                empty = {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": []}
                self._send(200, empty)

            def _send(self, code: int, payload: dict[str, Any] | None) -> None:
                data = b"" if payload is None else json.dumps(payload).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    # A watcher process was terminated while its watch was open.
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
