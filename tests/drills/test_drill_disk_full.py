"""Drill 6: the broker's disk stops taking writes (disk full / data dir read-only).

How the fault is made: the drills run as root here, and root ignores ``chmod`` (a read-only
log dir stays writable), while a tiny tmpfs or loop device needs mount privileges CI does
not have. So the drill lowers the running broker's ``RLIMIT_FSIZE`` (``prlimit``) to 4 KiB:
every log segment is already past that size, so the broker's next write fails with an I/O
error ("File too large") exactly where a full disk fails with "No space left on device" —
and unlike chmod, root is not exempt. Kafka takes the log directory offline; when the
failed write is the metadata log's it also halts (the usual case), otherwise it stays up
serving nothing.

Proves: the failure is loud and nothing is lost — "File too large" in the broker's output
(its own log files are on the same "disk", so server.log cannot take it, as on a real full
disk), ``marsad status`` says UNREACHABLE and exits 2 when the broker stopped, the poller
reports ``publish_error`` (naming the unconfirmed articles) and marks none of the articles
it could not publish as seen, no service crashes; once the disk takes writes again (broker
restarted without the limit) every article, incident and alert comes through exactly once.
Known gap (ingest room): the poller's producer does not recover by itself after this fault;
the drill restarts ``marsad ingest`` after 60 s without progress and records that it did.
"""

from __future__ import annotations

import resource
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from ingest.canonical import article_id
from tests.drills.harness import MARSAD, SERVICES, Pipeline, audit, report_line, seen_keys

pytestmark = [pytest.mark.drill, pytest.mark.integration]

FILE_SIZE_LIMIT = 4096
#: How long the poller gets to resume publishing by itself once the broker is back.
SELF_HEAL_S = 60.0


@pytest.mark.timeout(420)
def test_broker_disk_refusing_writes_fails_loudly_and_loses_nothing(
    drill_broker: Any, tmp_path: Path
) -> None:
    started = time.monotonic()
    with Pipeline(drill_broker.bootstrap, tmp_path / "run", "diskfull") as p:
        p.publish(15)
        p.settle(180, alive=SERVICES)

        pid = drill_broker.pid()
        assert pid, "the drill's broker is not running"
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
        faulted_at = time.monotonic()

        # 1. The broker fails loudly. Its own log files are past the limit too (as on a full
        # disk), so the error reaches logs/stdout.log through log4j's fallback. Which write
        # fails first varies: the metadata log (the broker then halts within a second) or a
        # partition append (the log dir goes offline; the process may stay up, serving
        # nothing). Either way no write succeeds any more.
        p.wait(
            lambda: "File too large" in drill_broker.log_tail(400),
            60,
            "the broker to report its failed writes",
            alive=("ingest", "stream", "alerts"),
        )
        broke_after = time.monotonic() - faulted_at
        stopped = (
            p.wait(
                lambda: not drill_broker.is_running() or time.monotonic() - faulted_at > 20,
                30,
                "the broker to stop or give up",
            )
            and not drill_broker.is_running()
        )
        if stopped:
            status = subprocess.run(
                [MARSAD, "status"], env=p.env, capture_output=True, text=True, timeout=60
            )
            assert status.returncode == 2 and "UNREACHABLE" in status.stdout, status
        during = p.publish(6, follow_ups=3)
        during_urls = [f"{p.feeds.base_url}/articles/{r.slug}" for r in during]

        # 2. The poller says why it could not publish, and marks nothing it did not publish.
        ingest = p.service("ingest")
        p.wait(
            lambda: "publish_error" in ingest.log_text(),
            120,
            "the poller to report the articles it could not publish",
        )
        assert "broker did not confirm" in ingest.log_text()
        marked = seen_keys(p.home / "ingest-state.sqlite")
        marked_during = [u for u in during_urls if article_id(u) in marked]
        assert not marked_during, f"marked seen while the disk refused writes: {marked_during}"
        p.check_alive()  # nobody crashed: every service waits for the broker to come back

        # 3. Space freed: the broker restarts (without the limit) and the books balance.
        drill_broker.stop(timeout=20)  # SIGKILL if it hangs on its broken disk
        drill_broker.start(timeout=180)
        restarted_ingest = False
        try:
            p.wait(lambda: p.count("articles") >= len(p.urls), SELF_HEAL_S, "ingest recovery")
        except AssertionError:
            # Known gap (ingest room, reported): after this fault the poller's idempotent
            # kafka-python producer keeps timing out on every publish even though the broker
            # is back; nothing is lost (nothing is marked seen), but only a restart of
            # `marsad ingest` gets articles flowing again — done here, as an operator would.
            restarted_ingest = True
            ingest.stop()
            ingest.start()
        # A restarted poller may re-send what the wedged producer flushed on its way out, so
        # in that case `articles` is held to at-least-once (duplicates are counted in the
        # figures); incidents and Slack stay exactly-once either way.
        books = p.settle(240, alive=SERVICES, article_duplicates_ok=restarted_ingest)
        problems = audit(books, article_duplicates_ok=restarted_ingest)
        assert not problems, problems
        report_line(
            "disk-refuses-writes",
            started,
            {
                "broker_reported_after_s": round(broke_after, 1),
                "broker_process_stopped": stopped,
                "published_while_broken": len(during_urls),
                "ingest_restart_needed": restarted_ingest,
                "publish_errors_logged": ingest.log_text().count("publish_error"),
                **books.figures,
            },
        )
