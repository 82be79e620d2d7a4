"""Drill 4: the notifier is SIGKILLed at random points across 100 alerts.

Kill points are drawn (seeded) among the first 100 top-level posts; at each, the Slack
server kills the notifier either while Slack has stored the message but not yet answered
(the client never learns it was posted) or right after answering (posted, ledger possibly
not updated, offset surely not committed). The notifier is restarted each time.

Proves: the delivery ledger plus the look-up of an interrupted attempt in Slack make every
alert revision appear exactly once — no duplicate, no loss — whatever the moment of death.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.drills.harness import SERVICES, Pipeline, Trickle, audit, report_line

pytestmark = [pytest.mark.drill, pytest.mark.integration]

ALERTS = 100
KILLS = 6
SEED = int(os.environ.get("MARSAD_DRILL_SEED", "4"))


@pytest.mark.timeout(420)
def test_notifier_sigkilled_at_random_points_posts_each_alert_once(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    rng = random.Random(SEED)
    kill_at = sorted(rng.sample(range(3, ALERTS - 5), KILLS))
    modes = [rng.choice(["before_answer", "after_answer"]) for _ in kill_at]
    with Pipeline(kafka_bootstrap, tmp_path / "run", "nkill") as p:
        notifier = p.service("alerts")
        died = threading.Event()
        done: list[tuple[int, str]] = []

        def on_post(n: int, message: dict[str, Any]) -> None:
            if len(done) < len(kill_at) and n >= kill_at[len(done)] and notifier.alive():
                done.append((n, modes[len(done)]))
                os.kill(notifier.pid or 0, signal.SIGKILL)
                died.set()

        p.slack.on_post = on_post
        p.slack.on_post_after_answer = modes[0] == "after_answer"
        # ~75 % of stories cross the deadly-incident threshold; follow-ups add revisions.
        with Trickle(p, stories=3, follow_ups=1, every=0.5, limit=150):
            while len(done) < len(kill_at):
                p.wait(
                    died.is_set,
                    180,
                    f"kill #{len(done) + 1} at post {kill_at[len(done)]}",
                    alive=("ingest", "stream"),
                )
                notifier.proc and notifier.proc.wait(15)
                died.clear()
                if len(done) < len(modes):
                    p.slack.on_post_after_answer = modes[len(done)] == "after_answer"
                notifier.start()
            p.wait(lambda: p.count("alerts") >= ALERTS, 240, f"{ALERTS} alerts on the topic")
        books = p.settle(300, alive=SERVICES)
        problems = audit(books)
        assert not problems, problems
        assert books.figures["alerts"] >= ALERTS, books.figures
        assert notifier.starts == KILLS + 1
        report_line(
            "notifier-sigkilled",
            started,
            {"kills": [f"post {n} {mode}" for n, mode in done], **books.figures},
        )
