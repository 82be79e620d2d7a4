"""The store on real databases: SQLite and a real PostgreSQL 15 server (tests/support/postgres).

The migrations must build exactly the schema the models describe (Alembic's autogenerate
finds nothing to do, as ``alembic check`` would say), and the writer's conflict clauses, time
zones and JSON must behave the same on both dialects.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select

from desk.store import queries
from desk.store.engine import open_engine
from desk.store.migrate import current, head, upgrade
from desk.store.records import IncidentFilter
from desk.store.schema import IncidentRevision, metadata
from desk.store.writer import store_alert, store_article, store_incident
from tests.support.postgres import PostgresServer, postgres_server  # noqa: F401
from tests.unit.desk.store_samples import alert, article, incident

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database()
    eng = open_engine(url)
    yield eng
    eng.dispose()


def test_migrations_build_the_models_schema(engine: Engine) -> None:
    assert current(engine) is None
    assert upgrade(engine) == head()
    assert upgrade(engine) == head()  # a second start changes nothing
    assert current(engine) == head()
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    assert diff == []
    assert set(inspect(engine).get_table_names()) >= set(metadata.tables)


def test_writes_are_idempotent_and_read_back_alike(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        for first in (True, False):  # everything delivered twice: the second time is a no-op
            assert store_incident(conn, incident(revision=1)) is first
            assert (
                store_incident(
                    conn, incident(revision=2, killed=20, article_ids=["art-1", "art-2"])
                )
                is first
            )
            assert store_incident(conn, incident("inc-2", occurred_on="2024-03-13")) is first
            assert store_incident(conn, incident("inc-2", revision=2, merged_into="inc-1")) is first
            assert store_article(conn, article("art-1")) is first
            assert store_alert(conn, alert()) is first
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(IncidentRevision)).scalar_one()
        assert n == 4
        rows = queries.incidents(conn, IncidentFilter(since=date(2024, 3, 1)))
        assert [(r.id, r.revision, r.killed) for r in rows] == [("inc-1", 2, 20)]
        assert rows[0].first_seen_at == datetime(2024, 3, 14, 6, 0, tzinfo=UTC)
        assert rows[0].record.location is not None
        assert rows[0].record.location.name_ar == "الميادين"
        f = IncidentFilter(since=None, target=("SYRIAN_GOV",), min_killed=20)
        assert queries.incident_count(conn, f) == 1
        detail = queries.incident_detail(conn, "inc-1")
        assert detail is not None
        assert [r.killed for r in detail.revisions] == [12, 20]
        assert detail.merged_from == ("inc-2",)
        assert [a.id for a in detail.alerts] == ["alert-1"]
        assert [(a.id, a.text is not None) for a in detail.articles] == [
            ("art-1", True),
            ("art-2", False),
        ]
        [count] = queries.daily_counts(conn, IncidentFilter(since=None), "perpetrator")
        assert (count.day, count.key, count.incidents, count.deaths) == (
            date(2024, 3, 14),
            "ISIS",
            1,
            20,
        )
