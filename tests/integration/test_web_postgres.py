"""The web desk over a real PostgreSQL server (compose's database): the same samples, written by
the store's writer, read by the same pages and endpoints as on SQLite. Where the two differ —
ordering with nulls last, dates, JSON columns, the map's own query — is where this would fail."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest

from desk.store.engine import open_engine
from desk.web.app import create_app
from desk.web.store_source import StoreSource
from tests.support.postgres import PostgresServer, postgres_server  # noqa: F401
from tests.support.web_desk import CURRENT, RULES, TODAY, fill

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(postgres_server: PostgresServer) -> Iterator[TestClient]:  # noqa: F811
    engine = open_engine(postgres_server.create_database())
    fill(engine)
    source = StoreSource(engine)
    with TestClient(create_app(source, rules=RULES, today=lambda: TODAY)) as c:
        yield c
    source.close()


def test_map_and_listing_agree_on_postgres(client: TestClient) -> None:
    html = client.get("/").text
    drawn = set(re.findall(r'<circle class="marker [^"]*" data-id="([^"]+)"', html))
    assert drawn == CURRENT
    listed = client.get("/api/incidents").json()["incidents"]
    assert [i["id"] for i in listed][:2] == ["inc-id", "inc-ni"]  # newest day first
    assert {i["id"] for i in listed} == CURRENT


def test_filters_on_postgres(client: TestClient) -> None:
    html = client.get("/?target=CIVILIANS&min_killed=5").text
    assert set(re.findall(r'data-id="(inc-[a-z]+)" cx', html)) == {"inc-bg"}
    body = client.get("/api/incidents?admin1=SY-DY&admin1=SY-HL&since=2026-03-14").json()
    assert {i["id"] for i in body["incidents"]} == {"inc-dy", "inc-hl"}


def test_timeline_incident_page_and_exports_on_postgres(client: TestClient) -> None:
    counts = client.get("/api/timeline?since=2026-03-14").json()
    assert counts["totals"] == {"incidents": 5, "deaths": 41}
    page = client.get("/incidents/inc-dy").text
    assert re.findall(r'<tr data-revision="(\d)">', page) == ["1", "2"]
    assert "<mark>قتل 14 عنصراً" in page
    csv_text = client.get("/export.csv?since=2026-03-14").text
    assert len(csv_text.strip().splitlines()) == 1 + 5
    geo = client.get("/api/incidents.geojson?since=2026-03-14").json()
    assert len(geo["features"]) == 5
