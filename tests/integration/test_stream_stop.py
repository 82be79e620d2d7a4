"""A stream worker whose broker is gone still stops cleanly on SIGTERM: exit 0, its one
"stopped" line, no traceback (``stream.clean_stop``; before it, mode's 60-second stop timeout
ran out and the worker was killed).

Runs a broker of its own, because it stops it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from control.workers import WorkerProcess, wait_for_members
from tests.drills.harness import own_broker
from tests.support.kafka_helpers import wait_until

pytestmark = pytest.mark.integration

#: A clean stop takes a second or two; mode gives up on a hung consumer thread after 60 s.
GRACE_S = 30.0
#: How long the consumer retries before the stop (a fetch task is then in its back-off).
RETRYING_S = 10.0


@pytest.mark.timeout(300)
def test_sigterm_with_the_broker_gone_exits_cleanly(tmp_path: Path) -> None:
    if os.environ.get("MARSAD_TEST_BOOTSTRAP", "").strip():
        pytest.skip("MARSAD_TEST_BOOTSTRAP is set: this test needs a broker it may stop")
    broker = own_broker(tmp_path / "kafka")
    worker = None
    try:
        worker = WorkerProcess(
            broker.bootstrap,
            "stop-test",
            tmp_path / "worker.log",
            extractor="tests.unit.stream.fake_extract:extract",
        ).start()
        wait_for_members(broker.bootstrap, "stop-test", [worker])
        broker.stop(timeout=30)
        # the consumer is now retrying: its fetches are in flight when the stop comes
        wait_until(
            lambda: "Connect call failed" in worker.log_text(),
            timeout=60,
            message="the worker never noticed the broker had gone",
        )
        time.sleep(RETRYING_S)
        rc = worker.stop(timeout=GRACE_S)
    finally:
        if worker is not None and worker.alive():
            worker.kill()
        broker.stop(timeout=30)
    log = worker.log_text()
    assert rc == 0, log[-3000:]
    assert "stream worker stopped" in log
    assert "Traceback" not in log, log[log.find("Traceback") :][:3000]
