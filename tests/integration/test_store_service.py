"""`marsad store` as a real process through the real broker, on SQLite and on PostgreSQL.

Published: articles, an incident delivered twice and then revised, a second incident later
merged into the first, an alert delivered twice and revised, and one record that is not an
incident. Expected: each revision stored exactly once with the whole history, the bad record
on ``incidents.dlq`` with its reason, and after SIGTERM a clean exit with every offset
committed; a second reading of everything by another group adds nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from desk.store import queries
from desk.store.engine import open_engine
from desk.store.records import IncidentFilter
from desk.store.schema import AlertRevision, Article, IncidentRevision
from desk.store.service import store_group
from marsad.topics import Topics, dlq, ensure_topics
from tests.support.kafka_helpers import consume_all, produce_json, wait_until
from tests.support.postgres import PostgresServer, postgres_server  # noqa: F401
from tests.unit.desk.store_samples import alert, article, incident

pytestmark = pytest.mark.integration

MARSAD = str(Path(sys.executable).with_name("marsad"))
PROJECT_ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 2

SHUTDOWN_NOISE = ("Traceback", "Unhandled exception", "Invalid file descriptor", "not registered")


def _json(model: Any) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json")
    data["schema"] = 1
    return data


def publish(bootstrap: str, topics: Topics) -> None:
    articles = [article("art-1"), article("art-2", source="Enab Baladi")]
    incidents: list[dict[str, Any]] = [
        _json(incident("inc-1", 1)),
        _json(incident("inc-1", 1)),  # redelivered
        _json(
            incident(
                "inc-1",
                2,
                killed=20,
                article_ids=["art-1", "art-2"],
                sources=["SOHR", "Enab Baladi"],
            )
        ),
        _json(incident("inc-2", 1, article_ids=["art-2"])),
        _json(incident("inc-2", 2, article_ids=["art-2"], merged_into="inc-1")),
        {"schema": 1, "revision": "not a number"},  # no id, a bad revision: unreadable
    ]
    alerts = [_json(alert("alert-1", 1)), _json(alert("alert-1", 1)), _json(alert("alert-1", 2))]
    produce_json(bootstrap, topics.articles, [_json(a) for a in articles], key=lambda v: v["id"])
    produce_json(bootstrap, topics.incidents, incidents, key=lambda v: v.get("id"))
    produce_json(bootstrap, topics.alerts, alerts, key=lambda v: v["id"])


def start_store(
    bootstrap: str, topics: Topics, url: str, home: Path, *extra: str
) -> tuple[subprocess.Popen[bytes], Path]:
    env = {
        **os.environ,
        "MARSAD_HOME": str(home),
        "MARSAD_KAFKA_BOOTSTRAP": bootstrap,
        "MARSAD_TOPIC_PREFIX": topics.prefix,
        "MARSAD_DATABASE_URL": url,
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    log = home / f"store-{uuid.uuid4().hex[:6]}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [MARSAD, "store", *extra], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return proc, log


def committed_everything(bootstrap: str, group: str, topics: Topics) -> bool:
    """The group's committed offset equals the end of every partition of the three topics."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        parts = [
            TopicPartition(t, p)
            for t in (topics.incidents, topics.alerts, topics.articles)
            for p in range(PARTITIONS)
        ]
        ends = consumer.end_offsets(parts)
        return all((consumer.committed(tp) or 0) == ends[tp] for tp in parts)
    finally:
        consumer.close(autocommit=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'desk.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


def test_store_keeps_each_revision_once_and_stops_cleanly(
    kafka_bootstrap: str, database_url: str, tmp_path: Path
) -> None:
    topics = Topics(f"t{uuid.uuid4().hex[:8]}-")
    ensure_topics(kafka_bootstrap, PARTITIONS, topics)
    publish(kafka_bootstrap, topics)

    proc, log_path = start_store(kafka_bootstrap, topics, database_url, tmp_path)
    engine = open_engine(database_url)

    def counts() -> tuple[int, int, int]:
        with engine.connect() as conn:
            return tuple(  # type: ignore[return-value]
                conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (IncidentRevision, AlertRevision, Article)
            )

    try:
        wait_until(
            lambda: proc.poll() is None and counts() == (4, 2, 2),
            timeout=60,
            message=f"store rows; log: {log_path}",
        )
        wait_until(
            lambda: committed_everything(kafka_bootstrap, store_group(topics), topics),
            timeout=30,
            message="offsets committed",
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = log_path.read_text("utf-8", "replace")
    noise = [ln for ln in log.splitlines() if any(n in ln for n in SHUTDOWN_NOISE)]
    assert not noise, log
    assert log.count("SIGTERM:") == 1, log
    summary = log.split("store stopped:")[-1].splitlines()[0]
    assert "incident stored 4" in summary and "incident duplicate 1" in summary, summary
    assert "alert stored 2" in summary and "unreadable 1" in summary, summary

    [parked] = consume_all(kafka_bootstrap, dlq(topics.incidents), 1)
    assert parked["revision"] == "not a number"
    assert "unreadable incident" in parked["error"]

    with engine.connect() as conn:
        [current] = queries.incidents(conn, IncidentFilter(since=None))
        assert (current.id, current.revision, current.killed) == ("inc-1", 2, 20)
        detail = queries.incident_detail(conn, "inc-1")
        assert detail is not None
        assert [r.killed for r in detail.revisions] == [12, 20]
        assert detail.revisions[1].sources_added == ("Enab Baladi",)
        assert detail.merged_from == ("inc-2",)
        assert [(a.id, a.revision) for a in detail.alerts] == [("alert-1", 2)]
        assert [a.id for a in detail.articles] == ["art-1", "art-2"]

    # Everything read again (another group from the beginning): nothing new is stored.
    again, again_log = start_store(
        kafka_bootstrap,
        topics,
        database_url,
        tmp_path,
        "--group",
        f"{topics.prefix}again",
        "--once",
        "--max-idle",
        "2",
    )
    assert again.wait(timeout=60) == 0, again_log.read_text("utf-8", "replace")
    assert counts() == (4, 2, 2)
    summary = again_log.read_text("utf-8").split("store stopped:")[-1]
    assert "stored" not in summary and "incident duplicate 5" in summary, summary
    engine.dispose()
