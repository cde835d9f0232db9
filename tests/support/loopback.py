"""The HTTP server under the loopback API doubles: bound to 127.0.0.1, served from a daemon thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar

LOOPBACK = "127.0.0.1"

_Server = TypeVar("_Server", bound="LoopbackHttpServer")


class LoopbackHttpServer:
    """An HTTP server on a free 127.0.0.1 port, run by `start()`/`stop()` or as a context manager."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], thread_name: str | None = None) -> None:
        self._server = ThreadingHTTPServer((LOOPBACK, 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name=thread_name, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self: _Server) -> _Server:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self: _Server) -> _Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
