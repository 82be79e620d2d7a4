"""The store's writer and read API on SQLite (the migrated schema, a file per test)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select

from desk.store import queries
from desk.store.engine import open_engine
from desk.store.migrate import upgrade
from desk.store.records import IncidentFilter, default_since
from desk.store.schema import IncidentRevision
from desk.store.writer import store_alert, store_article, store_incident
from tests.unit.desk.store_samples import DAY, alert, article, incident

ALL = IncidentFilter(since=None)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = open_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as c:
        yield c


def test_a_redelivered_revision_is_stored_once(conn: Connection) -> None:
    assert store_incident(conn, incident()) is True
    assert store_incident(conn, incident()) is False
    assert store_article(conn, article()) is True
    assert store_article(conn, article(title="changed")) is False
    assert store_alert(conn, alert()) is True
    assert store_alert(conn, alert()) is False
    assert conn.execute(select(func.count()).select_from(IncidentRevision)).scalar_one() == 1
    [row] = queries.incidents(conn, ALL)
    assert (row.id, row.revision, row.killed) == ("inc-1", 1, 12)


def test_every_revision_is_kept_and_the_latest_is_current(conn: Connection) -> None:
    store_incident(conn, incident(revision=1))
    store_incident(
        conn,
        incident(
            revision=3,
            killed=20,
            sources=["SOHR", "Enab Baladi"],
            article_ids=["art-1", "art-2"],
            updated_at="2024-03-14T15:00:00+03:00",
        ),
    )
    # revision 2 arrives after 3 (and twice): kept, but the current row stays on 3
    store_incident(conn, incident(revision=2, killed=15, article_ids=["art-1", "art-2"]))
    store_incident(conn, incident(revision=2, killed=15, article_ids=["art-1", "art-2"]))
    [row] = queries.incidents(conn, ALL)
    assert (row.revision, row.killed, row.sources) == (3, 20, ("SOHR", "Enab Baladi"))
    detail = queries.incident_detail(conn, "inc-1")
    assert detail is not None
    assert [r.revision for r in detail.revisions] == [1, 2, 3]
    assert [r.killed for r in detail.revisions] == [12, 15, 20]
    assert detail.revisions[1].articles_added == ("art-2",)
    assert detail.revisions[2].sources_added == ("Enab Baladi",)
    assert detail.revisions[0].sources_added == ("SOHR",)


def test_times_are_stored_as_utc_and_read_back_aware(conn: Connection) -> None:
    store_incident(conn, incident(first_seen_at="2024-03-14T09:00:00+03:00"))
    [row] = queries.incidents(conn, ALL)
    assert row.first_seen_at == datetime(2024, 3, 14, 6, 0, tzinfo=UTC)
    assert row.first_seen_at is not None and row.first_seen_at.tzinfo is not None


def test_a_merged_incident_leaves_the_listing_but_keeps_its_page(conn: Connection) -> None:
    store_incident(conn, incident("inc-1"))
    store_incident(conn, incident("inc-2", occurred_on="2024-03-13"))
    store_incident(conn, incident("inc-2", revision=2, merged_into="inc-1"))
    assert [r.id for r in queries.incidents(conn, ALL)] == ["inc-1"]
    assert queries.incident_count(conn, ALL) == 1
    closed = queries.incident_detail(conn, "inc-2")
    assert closed is not None and closed.current.merged_into == "inc-1"
    survivor = queries.incident_detail(conn, "inc-1")
    assert survivor is not None and survivor.merged_from == ("inc-2",)
    assert queries.incident_detail(conn, "nope") is None


def test_merge_reasons_of_every_revision_reach_the_detail(conn: Connection) -> None:
    store_incident(conn, incident(revision=1))
    store_incident(conn, incident(revision=2, merge_reasons=["same place", "same day"]))
    store_incident(conn, incident(revision=3, merge_reasons=["same day", "same toll"]))
    detail = queries.incident_detail(conn, "inc-1")
    assert detail is not None
    assert detail.merge_reasons == ("same place", "same day", "same toll")
    assert detail.revisions[1].merge_reasons == ("same place", "same day")


def test_the_detail_has_articles_text_and_alerts(conn: Connection) -> None:
    store_incident(conn, incident(article_ids=["art-2", "art-1", "art-missing"]))
    store_article(conn, article("art-1", published_at="2024-03-14T08:00:00+00:00"))
    store_article(conn, article("art-2", published_at="2024-03-14T07:00:00+00:00"))
    store_alert(conn, alert("alert-1", 1))
    store_alert(conn, alert("alert-1", 2, summary_en="15 killed"))
    store_alert(conn, alert("alert-other", incident_ids=["inc-9"]))
    detail = queries.incident_detail(conn, "inc-1")
    assert detail is not None
    assert [a.id for a in detail.articles] == ["art-2", "art-1", "art-missing"]
    assert detail.articles[0].text and "الميادين" in detail.articles[0].text
    assert detail.articles[2].text is None
    assert [(a.id, a.revision, a.summary_en) for a in detail.alerts] == [
        ("alert-1", 2, "15 killed")
    ]
    assert [a.id for a in queries.recent_alerts(conn)] == ["alert-1", "alert-other"]


def test_filters_narrow_the_listing(conn: Connection) -> None:
    store_incident(conn, incident("a", killed=12, targets=["SYRIAN_GOV", "IRAN_BACKED"]))
    store_incident(
        conn,
        incident(
            "b",
            perpetrator="TURKEY",
            targets=["SDF"],
            event_type="Explosions/Remote violence",
            sub_event_type="Air/drone strike",
            killed=None,
            occurred_on="2024-03-10",
            location={"name_ar": "القامشلي", "name_en": "Qamishli", "admin1": "SY-HA"},
        ),
    )
    store_incident(conn, incident("c", killed=2, occurred_on="2024-03-12"))

    def ids(**kw: Any) -> list[str]:
        return [r.id for r in queries.incidents(conn, replace(ALL, **kw))]

    assert ids() == ["a", "c", "b"]  # newest day first
    assert ids(admin1=("SY-HA",)) == ["b"]
    assert ids(perpetrator=("ISIS",)) == ["a", "c"]
    assert ids(target=("IRAN_BACKED", "SDF")) == ["a", "b"]
    assert ids(event_type=("Explosions/Remote violence",)) == ["b"]
    assert ids(min_killed=5) == ["a"]  # a null toll never matches
    assert ids(since=date(2024, 3, 11), until=date(2024, 3, 12)) == ["c"]
    assert ids(limit=1) == ["a"]
    assert queries.incident_count(conn, IncidentFilter(since=None, perpetrator=("ISIS",))) == 2


def test_a_day_falls_back_to_first_seen(conn: Connection) -> None:
    store_incident(conn, incident(occurred_on=None, first_seen_at="2024-03-15T23:30:00-02:00"))
    [row] = queries.incidents(conn, ALL)
    assert row.day == date(2024, 3, 15)  # the calendar day where it was seen, not UTC's


def test_the_default_filter_is_the_last_seven_days() -> None:
    assert default_since(date(2024, 3, 14)) == date(2024, 3, 8)
    assert IncidentFilter().since == default_since()


def test_daily_counts_by_governorate_and_by_actor(conn: Connection) -> None:
    store_incident(conn, incident("a", killed=12))
    store_incident(conn, incident("b", killed=None))
    store_incident(
        conn,
        incident(
            "c",
            killed=4,
            perpetrator="TURKEY",
            location={"name_ar": "القامشلي", "name_en": "Qamishli", "admin1": "SY-HA"},
        ),
    )
    by_gov = queries.daily_counts(conn, ALL, "admin1")
    assert [(c.day, c.key, c.incidents, c.deaths) for c in by_gov] == [
        (DAY, "SY-DY", 2, 12),
        (DAY, "SY-HA", 1, 4),
    ]
    by_actor = queries.daily_counts(conn, IncidentFilter(since=None, min_killed=1), "perpetrator")
    assert [(c.key, c.incidents, c.deaths) for c in by_actor] == [("ISIS", 1, 12), ("TURKEY", 1, 4)]


def test_facets_list_what_current_incidents_hold(conn: Connection) -> None:
    empty = queries.facets(conn)
    assert empty.admin1 == () and empty.first_day is None
    store_incident(conn, incident("a", targets=["SYRIAN_GOV", "CIVILIANS"]))
    store_incident(conn, incident("b", perpetrator="TURKEY", occurred_on="2024-03-01"))
    store_incident(conn, incident("b", revision=2, perpetrator="TURKEY", merged_into="a"))
    f = queries.facets(conn)
    assert f.admin1 == ("SY-DY",)
    assert f.perpetrators == ("ISIS",)  # the merged incident's actor is gone
    assert f.targets == ("CIVILIANS", "SYRIAN_GOV")
    assert f.event_types == ("Battles",)
    assert (f.first_day, f.last_day) == (DAY, DAY)


def test_rows_carry_the_record_as_the_topic_had_it(conn: Connection) -> None:
    original = incident(extra_field="kept")
    store_incident(conn, original)
    [row] = queries.incidents(conn, ALL)
    assert row.record == original
    assert row.raw["extra_field"] == "kept"
    assert (row.country, row.admin1, row.place_en) == ("SY", "SY-DY", "Al-Mayadin")


def test_a_source_added_without_a_new_revision_is_kept(conn: Connection) -> None:
    store_incident(conn, incident(updated_at="2024-03-14T09:00:00+00:00"))
    later = incident(
        sources=["SOHR", "Enab Baladi"],
        article_ids=["art-1", "art-2"],
        updated_at="2024-03-14T10:00:00+00:00",
    )
    assert store_incident(conn, later) is True
    # the older copy again (a redelivery out of order) changes nothing
    assert store_incident(conn, incident(updated_at="2024-03-14T09:00:00+00:00")) is False
    assert store_incident(conn, later) is False
    [row] = queries.incidents(conn, ALL)
    assert (row.revision, row.sources) == (1, ("SOHR", "Enab Baladi"))
    detail = queries.incident_detail(conn, "inc-1")
    assert detail is not None and [a.id for a in detail.articles] == ["art-1", "art-2"]
