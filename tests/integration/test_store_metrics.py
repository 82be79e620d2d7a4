"""``marsad store`` with ``MARSAD_STORE_METRICS_PORT``: its /metrics and /healthz, scraped while
it writes the records of tests/integration/test_store_service.py (revisions, a redelivery, an
unreadable record) from the real broker into SQLite."""

from __future__ import annotations

import json
import urllib.request
import uuid
from pathlib import Path

import pytest

from control.services import terminate
from marsad.topics import Topics, ensure_topics
from tests.integration.test_store_service import PARTITIONS, publish, start_store
from tests.support.kafka_helpers import free_ports, wait_until
from tests.support.metrics import Samples, scrape, total

pytestmark = pytest.mark.integration


def test_metrics_and_health_while_storing(kafka_bootstrap: str, tmp_path: Path) -> None:
    topics = Topics(f"m{uuid.uuid4().hex[:8]}-")
    ensure_topics(kafka_bootstrap, PARTITIONS, topics)
    publish(kafka_bootstrap, topics)  # 6 incident records, 3 alerts, 2 articles
    (port,) = free_ports(1)
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    proc, log_path = start_store(
        kafka_bootstrap, topics, url, tmp_path, "--metrics-port", str(port)
    )
    records = "marsad_store_records_total"

    def caught_up() -> Samples | None:
        m = scrape(port)
        settled = (
            total(m, records) == 11
            and total(m, "marsad_store_assigned_partitions") == 3 * PARTITIONS
            and total(m, "marsad_store_consumer_lag") == 0
        )
        return m if settled else None

    try:
        done = wait_until(
            caught_up,
            timeout=90,
            message=f"every record counted and no lag; log: {log_path}",
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as resp:
            status = resp.status
            health = json.loads(resp.read())
    finally:
        terminate(proc)
    log = log_path.read_text("utf-8", "replace")
    assert proc.returncode == 0, log
    assert done is not None
    assert f"metrics and health on http://127.0.0.1:{port}/metrics" in log
    assert status == 200 and health["status"] == "ok", health
    assert health["lag"] == 0 and health["last_write_age_s"] is not None
    assert total(done, records, kind="incident", outcome="written") == 4
    assert total(done, records, kind="incident", outcome="duplicate") == 1
    assert total(done, records, kind="incident", outcome="parked") == 1
    assert total(done, records, kind="alert", outcome="written") == 2
    assert total(done, records, kind="alert", outcome="duplicate") == 1
    assert total(done, records, kind="article", outcome="written") == 2
    assert total(done, "marsad_store_dlq_messages_total", reason="unreadable") == 1
    assert total(done, "marsad_store_last_write_timestamp_seconds") > 0
    assert total(done, "marsad_store_stalled") == 0
