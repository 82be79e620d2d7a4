"""The small HTTP server every long-running command exposes: ``/metrics`` and ``/healthz``.

Why in the kernel: ingest and the stream worker (and any later service) answer the same two
questions the same way: Prometheus scrapes ``/metrics``; an orchestrator's healthcheck reads
``/healthz`` (200 healthy, 503 not, a JSON body saying why). Each room supplies only what is
its own: how to render its metrics and how to judge its health.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

from prometheus_client import CONTENT_TYPE_LATEST

Health = tuple[int, dict[str, object]]


class HealthServer:
    """Serves ``render()`` on ``/metrics`` and ``health()`` on ``/healthz`` (and ``/``) from a
    daemon thread; ``port=0`` picks a free port (read ``.port`` after construction)."""

    def __init__(
        self,
        render: Callable[[], bytes],
        health: Callable[[], Health],
        port: int,
        host: str = "127.0.0.1",
        name: str = "health",
    ) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/metrics"):
                    self._send(200, render(), CONTENT_TYPE_LATEST)
                elif self.path.startswith("/healthz") or self.path == "/":
                    status, body = health()
                    self._send(status, json.dumps(body).encode(), "application/json")
                else:
                    self._send(404, b"not found\n", "text/plain")

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
