"""Merge reasons, from the stream's merge step to the incident page's detail."""

from __future__ import annotations

from pathlib import Path

from desk.store import queries
from desk.store.engine import open_engine
from desk.store.migrate import upgrade
from desk.store.writer import store_incident
from marsad.records import StoredIncident
from stream.merge import MergeConfig
from stream.merge_step import MergeBook, partition_key
from tests.unit.stream.helpers import NOW, candidate


def test_a_merged_report_says_why_and_the_store_keeps_it(tmp_path: Path) -> None:
    book = MergeBook(MergeConfig())
    first = candidate("a1", source="SOHR")
    second = candidate("a2", source="Enab Baladi", killed=32)
    opened = book.add(partition_key(first.incident), first, NOW)
    joined = book.add(partition_key(second.incident), second, NOW)
    assert opened.incident.merge_reasons == []
    assert joined.incident.id == opened.incident.id
    assert joined.incident.merge_reasons == joined.decision.reasons
    assert joined.incident.merge_reasons  # e.g. "same place (Al-Bukamal)", "both Armed clash"
    # on the wire: left off when empty, read back when present
    assert "merge_reasons" not in opened.incident.to_json()
    wire = StoredIncident.from_json(joined.incident.to_json())
    assert wire.merge_reasons == joined.incident.merge_reasons

    engine = open_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        store_incident(conn, opened.incident)
        store_incident(conn, wire)
        detail = queries.incident_detail(conn, opened.incident.id)
    engine.dispose()
    assert detail is not None
    assert [r.revision for r in detail.revisions] == [1, 2]
    assert detail.revisions[0].merge_reasons == ()
    assert detail.merge_reasons == tuple(joined.decision.reasons)
