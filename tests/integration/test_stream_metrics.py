"""``marsad stream --metrics-port``: the worker's pipeline counts, scraped from its real
/metrics after articles went through the real broker (a new incident, a revision, a report
already held, a background incident and a poison message)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from kafka import KafkaProducer

from control.workers import WorkerProcess
from marsad.topics import Topics
from tests.integration.test_stream import Run, article, incident, send
from tests.support.kafka_helpers import free_ports, wait_until
from tests.support.metrics import scrape, total

pytestmark = pytest.mark.integration


def test_pipeline_counts_on_the_workers_metrics(kafka_bootstrap: str, tmp_path: Path) -> None:
    (port,) = free_ports(1)
    run = Run(kafka_bootstrap, tmp_path, "metrics")
    run.workers.append(
        WorkerProcess(
            kafka_bootstrap,
            run.app_id,
            tmp_path / "worker.log",
            rules=run.rules,
            extractor="tests.unit.stream.fake_extract:extract",
            extra_args=["--metrics-port", str(port)],
        ).start()
    )
    u = uuid.uuid4().hex[:6]
    try:
        run.count = 0  # no more workers than the one above, which has a metrics port
        run.start()  # waits for it to own the partitions
        first = article(f"{u}-1", "SOHR", incident("SY-DY", 30))
        send(kafka_bootstrap, first)
        run.drain()
        send(kafka_bootstrap, article(f"{u}-2", "Orient", incident("SY-DY", 51)))
        run.drain()
        send(
            kafka_bootstrap,
            first,  # the same report again: held, nothing published
            article(f"{u}-3", "SOHR", incident("SY-DR", 90, background=True)),
        )
        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
        producer.send(Topics().articles, key=f"{u}-raw".encode(), value=b"\xff not json")
        producer.flush()
        producer.close()
        run.drain()
        m = wait_until(
            lambda: (
                s
                if total(s := scrape(port), "marsad_stream_articles_extracted_total") >= 4
                # and the liveness check has looked once (a timer: late on a busy machine)
                and total(s, "marsad_stream_last_check_timestamp_seconds") > 0
                else None
            ),
            timeout=30,
            message="the worker's counts",
        )
        assert m is not None
    finally:
        run.stop()
    assert total(m, "marsad_stream_articles_extracted_total") == 4
    assert total(m, "marsad_stream_extraction_seconds_count") == 4
    assert total(m, "marsad_stream_extracted_incidents_total", kind="current") == 3
    assert total(m, "marsad_stream_extracted_incidents_total", kind="background") == 1
    decisions = "marsad_stream_merge_decisions_total"
    assert total(m, decisions, decision="new") == 1
    assert total(m, decisions, decision="joined") == 1
    assert total(m, decisions, decision="held") == 1
    published = "marsad_stream_incidents_published_total"
    assert total(m, published, outcome="opened") == 1
    assert total(m, published, outcome="revised") == 1
    assert total(m, "marsad_stream_alerts_fired_total", rule="deadly", kind="incident") == 2
    assert total(m, "marsad_stream_dlq_messages_total", topic="articles") == 1
    assert total(m, "marsad_stream_stalled") == 0
    assert total(m, "marsad_stream_assigned_partitions") >= 1
