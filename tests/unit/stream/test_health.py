"""``stream.health``: liveness as Prometheus metrics and /healthz (200 live, 503 stalled)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest

from stream.health import HealthServer, StreamHealth, feed


@dataclass(frozen=True)
class TP:
    topic: str
    partition: int


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _health(clock: Clock) -> StreamHealth:
    return StreamHealth(stalled_after=30.0, stale_after=60.0, clock=clock)


def test_progress_keeps_the_worker_live_and_is_exported() -> None:
    clock = Clock()
    h = _health(clock)
    feed(h, [(TP("articles", 0), 5, 9), (TP("articles", 1), 3, 3), (TP("articles", 2), None, 4)])
    assert "marsad_stream_assigned_partitions 3.0" in h.render().decode()
    assert h.health()[0] == 200
    clock.now += 25
    feed(h, [(TP("articles", 0), 7, 9), (TP("articles", 1), 3, 3)])
    status, body = h.health()
    assert status == 200 and body["status"] == "ok" and body["lag"] == 2
    text = h.render().decode()
    assert 'marsad_stream_partition_lag{partition="0",topic="articles"} 2.0' in text
    assert 'marsad_stream_committed_offset{partition="0",topic="articles"} 7.0' in text
    assert "marsad_stream_last_progress_timestamp_seconds" in text
    assert "marsad_stream_stalled 0.0" in text
    assert "marsad_stream_assigned_partitions 2.0" in text


def test_a_commit_stuck_behind_waiting_messages_is_a_stall() -> None:
    clock = Clock()
    h = _health(clock)
    for _ in range(4):
        feed(h, [(TP("articles", 0), 5, 9), (TP("articles", 1), 3, 3)])
        clock.now += 10
    status, body = h.health()
    assert status == 503 and body["status"] == "stalled"
    assert body["idle_partitions"] == {"articles[0]": 40.0}
    assert "marsad_stream_stalled 1.0" in h.render().decode()
    # The commit moves again (the guard's re-read worked, or a restart): live again.
    feed(h, [(TP("articles", 0), 9, 9)])
    assert h.health()[0] == 200


def test_a_revoked_partition_is_forgotten() -> None:
    clock = Clock()
    h = _health(clock)
    feed(h, [(TP("articles", 0), 5, 9)])
    clock.now += 40
    feed(h, [(TP("articles", 1), 2, 2)])  # articles[0] moved to another worker
    assert h.health()[0] == 200
    assert 'partition="0"' not in h.render().decode()


def test_a_guard_that_stopped_looking_is_stale() -> None:
    clock = Clock()
    h = _health(clock)
    clock.now += 59
    assert h.health()[0] == 200  # starting up: the grace period runs from the start
    clock.now += 2
    status, body = h.health()
    assert status == 503 and body["status"] == "stale"
    feed(h, [])
    assert h.health()[0] == 200


def test_server_serves_healthz_and_metrics() -> None:
    clock = Clock()
    h = _health(clock)
    server = HealthServer(h, 0).start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as resp:
            assert resp.status == 200 and json.loads(resp.read())["status"] == "ok"
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as resp:
            assert b"marsad_stream_stalled" in resp.read()
        feed(h, [(TP("articles", 0), 1, 5)])
        clock.now += 31
        feed(h, [(TP("articles", 0), 1, 5)])
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=5)
            raise AssertionError("expected 503")
        except urllib.error.HTTPError as exc:
            assert exc.code == 503
            assert json.loads(exc.read())["status"] == "stalled"
    finally:
        server.stop()


def test_exit_on_stall_watchdog_signals_the_worker_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import signal

    import stream.cli as cli

    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append((pid, sig)))
    clock = Clock()
    h = _health(clock)
    feed(h, [(TP("articles", 0), 1, 5)])
    clock.now += 31
    feed(h, [(TP("articles", 0), 1, 5)])
    dog = cli.StallWatchdog(h, every_s=0.01).start()
    dog._thread.join(5)
    assert dog.fired and sent == [(os.getpid(), signal.SIGTERM)]
