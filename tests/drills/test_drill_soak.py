"""Drill 8: a soak — feeds keep moving for ``MARSAD_SOAK_MINUTES`` (default 20) minutes while a
second stream worker joins and leaves every 2 minutes (a forced rebalance each time), with
one burst large enough to squeeze Faust's producer buffer in the middle.

Proves: no stream partition with messages waiting stays without commit progress for more
than ``MARSAD_SOAK_MAX_IDLE`` (default 30) seconds — sampled from the broker every 3 s, the
way ``marsad status`` sees it — and afterwards the books balance (every article once, every
incident, every alert revision in Slack exactly once). The first worker serves ``/healthz``;
the drill records how often it answered 503 (a stall the worker itself noticed).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.drills.harness import (
    SERVICES,
    Pipeline,
    ProgressSampler,
    Service,
    Trickle,
    audit,
    report_line,
)
from tests.support.kafka_helpers import free_port

pytestmark = [pytest.mark.drill, pytest.mark.integration]

MINUTES = float(os.environ.get("MARSAD_SOAK_MINUTES", "20"))
MAX_IDLE_S = float(os.environ.get("MARSAD_SOAK_MAX_IDLE", "30"))
REBALANCE_EVERY_S = 120.0
#: Stories published at once in the middle: well over Faust's producer buffer (a few
#: hundred sends queued per article burst: candidates, incidents, window updates, alerts).
BURST_STORIES = 250


def _healthz(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None  # starting or restarting


@pytest.mark.timeout(int(MINUTES * 60) + 900)
def test_soak_with_rebalances_and_a_burst(kafka_bootstrap: str, tmp_path: Path) -> None:
    started = time.monotonic()
    p = Pipeline(kafka_bootstrap, tmp_path / "run", "soak")
    port = free_port()
    p.services["stream"].env["MARSAD_STREAM_METRICS_PORT"] = str(port)
    second = Service(
        "stream-2",
        ["stream", "--bootstrap", kafka_bootstrap, "--app-id", p.app_id],
        p.env,
        p.logs / "stream-2.log",
    )
    health: dict[str, int] = {}

    def probe_health() -> None:
        code = _healthz(port)
        health[str(code)] = health.get(str(code), 0) + 1

    topics = [p.topic("articles"), f"{p.app_id}-{p.prefix}incident-candidates"]
    rebalances = 0
    burst_at: float | None = None
    with p:
        try:
            with (
                Trickle(p, stories=1, follow_ups=1, every=1.0),
                ProgressSampler(kafka_bootstrap, p.app_id, topics, every=3.0) as sampler,
            ):
                p.wait(lambda: p.count("alerts") > 0, 180, "first alerts")
                sampler.hooks.append(probe_health)
                end = time.monotonic() + MINUTES * 60
                next_rebalance = time.monotonic() + REBALANCE_EVERY_S
                while time.monotonic() < end:
                    p.check_alive(*SERVICES)
                    if burst_at is None and time.monotonic() >= started + MINUTES * 30:
                        p.publish(BURST_STORIES)
                        burst_at = time.monotonic() - started
                    if time.monotonic() >= next_rebalance:
                        if second.alive():
                            assert second.stop() == 0, second.log_text()[-3000:]
                        else:
                            second.start()
                        rebalances += 1
                        next_rebalance += REBALANCE_EVERY_S
                    time.sleep(1.0)  # the loop's pace; faults are on the clock by design here
            if second.alive():  # its last leave is a rebalance too
                assert second.stop() == 0, second.log_text()[-3000:]
                rebalances += 1
        finally:
            if second.alive():
                second.stop()
        books = p.settle(300, alive=SERVICES)
        problems = audit(books)
        assert not problems, problems
        worst, idle = sampler.worst()
        figures = {
            "minutes": MINUTES,
            "rebalances": rebalances,
            "burst_stories": BURST_STORIES,
            "burst_at_s": None if burst_at is None else round(burst_at, 1),
            "samples": sampler.samples,
            "sample_errors": sampler.errors,
            "max_idle_s": round(idle, 1),
            "max_idle_partition": None if worst is None else f"{worst[0]}[{worst[1]}]",
            "healthz": health,
            "stall_rereads": p.service("stream").log_text().count("commit stuck at")
            + second.log_text().count("commit stuck at"),
            **books.figures,
        }
        report_line("soak", started, figures)
        assert sampler.samples >= MINUTES * 5, figures
        assert idle <= MAX_IDLE_S, (
            f"partition {worst} had lag with no commit progress for {idle:.0f} s "
            f"(limit {MAX_IDLE_S:.0f} s): {json.dumps(figures)}"
        )
