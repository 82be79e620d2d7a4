"""`marsad replay` is a back-test: it never writes to, nor is read from, the live topics.

Through the real broker: a replay (stream + notifier) leaves the live ``articles`` and
``alerts`` (the contract's names, no prefix) exactly where they ended, still writes its alerts
to ``--alerts-out``, keeps its notifier's ledger under its run directory, and deletes its
namespace's topics and consumer groups afterwards.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from control.replay import RUN_HEADER, _publish, _read_lines
from control.services import marsad_executable
from marsad.kafka.probes import GroupProbe
from marsad.settings import PROJECT_ROOT
from marsad.topics import Topics, create_missing_topics, dlq
from tests.support.kafka_helpers import wait_until

pytestmark = pytest.mark.integration

FIXTURE = PROJECT_ROOT / "tests" / "fixtures" / "stream" / "bukamal_attack.jsonl"
LIVE = Topics()
NAMESPACE = re.compile(r"; namespace (\S+);")


def _ends(bootstrap: str, topics: list[str]) -> dict[str, dict[int, int]]:
    with GroupProbe(bootstrap) as probe:
        ends = probe.end_offsets(probe.partitions(topics))
    out: dict[str, dict[int, int]] = {}
    for tp, end in ends.items():
        out.setdefault(tp.topic, {})[tp.partition] = end
    return out


def _admin_view(bootstrap: str) -> tuple[set[str], set[str]]:
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="marsad-test")
    try:
        topics = set(admin.list_topics())
        groups = {str(g.get("group_id", g)) for g in admin.list_groups()}  # group dicts
        return topics, groups
    finally:
        admin.close()


def test_replay_leaves_the_live_topics_untouched_and_cleans_up(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    live = [LIVE.articles, LIVE.alerts, LIVE.incidents, dlq(LIVE.articles)]
    before = _ends(kafka_bootstrap, live)
    out = tmp_path / "alerts.jsonl"
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MARSAD_"))}
    env.update(MARSAD_KAFKA_BOOTSTRAP=kafka_bootstrap, MARSAD_HOME=str(home))
    done = subprocess.run(
        [*marsad_executable(), "replay", str(FIXTURE), "--alerts-out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = NAMESPACE.search(done.stderr)
    assert found, done.stderr[-2000:]
    prefix = found.group(1)
    assert prefix.startswith("replay-") and prefix.endswith(".")

    # Its alerts are still the output of the run...
    alerts = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert any(a["rule"] == "deadly-incident" for a in alerts), alerts
    assert "1 to articles.dlq" in done.stderr  # the fixture's line that is not JSON
    run_dir = home / "replay" / prefix.rstrip(".")
    assert len((run_dir / "articles.dlq.jsonl").read_text(encoding="utf-8").splitlines()) == 1
    # ...but nothing reached the live topics: not one article, incident, alert or dead letter.
    assert _ends(kafka_bootstrap, live) == before
    # The notifier delivered under the run's own ledger, not the live one.
    assert (run_dir / "home" / "alerts-ledger.sqlite").exists()
    assert not (home / "alerts-ledger.sqlite").exists()
    assert not (home / "alerts.jsonl").exists()

    # Its namespace is gone: topics (incl. the app's changelogs) and both consumer groups.
    def gone() -> bool:
        topics, groups = _admin_view(kafka_bootstrap)
        return not any(t.startswith(prefix) for t in topics) and not any(
            g.startswith(prefix) for g in groups
        )

    wait_until(gone, timeout=60, message=f"the topics and groups of {prefix} deleted")


def test_replayed_records_carry_the_contract_fields_and_the_run_header(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    from kafka import KafkaConsumer, TopicPartition

    archive = tmp_path / "old-2019.jsonl"
    archive.write_text(
        json.dumps({"id": "old-1", "text": "نص", "published_at": "2019-03-01T10:00:00+03:00"})
        + "\n"
        + json.dumps(
            {"id": "old-2", "text": "نص", "feed_url": "https://x/rss", "fetched_at": "2019-03-02"}
        )
        + "\nnot json\n",
        encoding="utf-8",
    )
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    lines = _read_lines(str(archive), fetched_at=now)
    topic = f"test-replay-{uuid.uuid4().hex[:8]}.articles"
    create_missing_topics(kafka_bootstrap, [topic], 1)
    _publish(kafka_bootstrap, topic, lines, [(RUN_HEADER, b"replay-run-1")])

    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        got: list[Any] = []

        def read_three() -> bool:
            got.extend(consumer.poll(timeout_ms=500).get(tp, []))
            return len(got) >= 3

        wait_until(read_three, timeout=30, message="the three records read back")
    finally:
        consumer.close()
    values = [r.value for r in got]
    first, second = (json.loads(v) for v in values[:2])
    assert first["feed_url"] == "replay:old-2019.jsonl"
    assert first["fetched_at"] == now.isoformat() and first["schema"] == 1
    assert (second["feed_url"], second["fetched_at"]) == ("https://x/rss", "2019-03-02")
    assert values[2] == b"not json"  # published as is: the stream parks it on the DLQ
    for record in got:
        assert dict(record.headers) == {RUN_HEADER: b"replay-run-1"}
