import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from ingest.metrics import HealthServer, IngestMetrics


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def served() -> Iterator[tuple[IngestMetrics, HealthServer]]:
    metrics = IngestMetrics()
    server = HealthServer(metrics, 0, stale_after=60).start()
    yield metrics, server
    server.stop()


def test_health_stale_until_the_loop_ticks(served: tuple[IngestMetrics, HealthServer]) -> None:
    metrics, server = served
    status, body = get(f"http://127.0.0.1:{server.port}/healthz")
    assert status == 503 and json.loads(body)["status"] == "stale"
    metrics.tick()
    status, body = get(f"http://127.0.0.1:{server.port}/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_metrics_exposed(served: tuple[IngestMetrics, HealthServer]) -> None:
    metrics, server = served
    metrics.fetch("ok", 0.02, 1234)
    metrics.fetch("not_modified", 0.01)
    metrics.fetch("not_modified", 0.01)
    metrics.fetch("timeout")
    status, body = get(f"http://127.0.0.1:{server.port}/metrics")
    text = body.decode()
    assert status == 200
    assert 'marsad_ingest_fetches_total{outcome="not_modified"} 2.0' in text
    assert "marsad_ingest_bytes_total 1234.0" in text
    assert metrics.count("marsad_ingest_not_modified_ratio") == pytest.approx(2 / 3)
    assert get(f"http://127.0.0.1:{server.port}/nope")[0] == 404


def test_left_out_items_counted_by_reason(served: tuple[IngestMetrics, HealthServer]) -> None:
    metrics, server = served
    metrics.items_left_out({"no_text": 2, "duplicate_id": 0}, {"bad_date": 1})
    metrics.items_left_out({"no_text": 1, "over_item_cap": 40}, {})
    text = get(f"http://127.0.0.1:{server.port}/metrics")[1].decode()
    assert 'marsad_ingest_items_skipped_total{reason="no_text"} 3.0' in text
    assert 'marsad_ingest_items_skipped_total{reason="over_item_cap"} 40.0' in text
    assert 'reason="duplicate_id"' not in text  # zero counts create no series
    assert 'marsad_ingest_items_trimmed_total{what="bad_date"} 1.0' in text
