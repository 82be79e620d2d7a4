"""``marsad up``'s supervisor restarts a child whose /healthz answers 503 (a stalled worker)."""

from __future__ import annotations

import sys

from control.services import Service, ServiceGroup, child_env, probe_health
from tests.support.kafka_helpers import free_port, wait_until

CHILD = """
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
code = int(sys.argv[2])
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(code); self.end_headers(); self.wfile.write(b'{"status": "x"}')
    def log_message(self, *a):
        pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def _group(code: int) -> tuple[ServiceGroup, Service]:
    port = free_port()
    group = ServiceGroup(child_env(), health_every_s=0.0)
    svc = Service(
        "stream",
        [sys.executable, "-c", CHILD, str(port), str(code)],
        health_url=f"http://127.0.0.1:{port}/healthz",
    )
    group.services["stream"] = svc
    group.start()
    assert svc.health_url is not None
    url = svc.health_url
    wait_until(lambda: probe_health(url)[0] is not None, 20, "child serving")
    return group, svc


def test_a_child_answering_503_is_restarted_within_the_budget() -> None:
    group, svc = _group(503)
    try:
        assert svc.proc is not None
        first = svc.proc.pid
        group.check()
        assert svc.proc.pid != first and len(svc.restarts) == 1
    finally:
        group.stop(grace_s=5)


def test_a_healthy_or_silent_child_is_left_alone() -> None:
    group, svc = _group(200)
    try:
        assert svc.proc is not None
        first = svc.proc.pid
        group.check()
        assert svc.proc.pid == first and not svc.restarts
    finally:
        group.stop(grace_s=5)
    assert probe_health(f"http://127.0.0.1:{free_port()}/healthz")[0] is None
