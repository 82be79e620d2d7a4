"""ACLED CSV, GeoJSON and JSON Lines from stored incidents (pure functions, and the command)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection

from desk import export
from desk.store import queries
from desk.store.engine import open_engine
from desk.store.migrate import upgrade
from desk.store.records import IncidentFilter, IncidentRow
from desk.store.writer import store_incident
from marsad.records import ACTOR_CODES
from tests.unit.desk.store_samples import incident

ALL = IncidentFilter(since=None)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[str, Connection]]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = open_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        yield url, conn
    engine.dispose()


def rows_of(conn: Connection, *records: Any) -> list[IncidentRow]:
    for r in records:
        store_incident(conn, r)
    return queries.incidents(conn, ALL)


def test_columns_are_acleds_in_acleds_order() -> None:
    assert export.ACLED_COLUMNS[:3] == ("event_id_cnty", "event_date", "time_precision")
    assert export.ACLED_COLUMNS[-3:] == ("notes", "fatalities", "timestamp")
    assert len(export.ACLED_COLUMNS) == 27 == len(set(export.ACLED_COLUMNS))


def test_an_incident_as_an_acled_row(db: tuple[str, Connection]) -> None:
    _, conn = db
    [row] = rows_of(
        conn,
        incident(
            targets=["SYRIAN_GOV", "IRAN_BACKED"],
            sources=["SOHR", "BBC Arabic"],
            updated_at="2024-03-14T12:00:00+00:00",
        ),
    )
    out = export.acled_row(row)
    assert list(out) == list(export.ACLED_COLUMNS)
    assert out["event_id_cnty"] == "SYR-inc-1"
    assert (out["event_date"], out["time_precision"]) == ("2024-03-14", "1")
    assert out["disorder_type"] == "Political violence"
    assert (out["actor1"], out["inter1"]) == ("Islamic State (Syria)", "2")
    assert (out["actor2"], out["inter2"]) == ("Military Forces of Syria", "1")
    assert out["assoc_actor_2"] == "Iran-backed Militias (Syria)"
    assert out["interaction"] == "12"  # the lower code first
    assert out["civilian_targeting"] == ""
    assert (out["iso"], out["country"], out["admin1"]) == ("760", "Syria", "Deir ez-Zor")
    assert (out["location"], out["latitude"], out["longitude"]) == (
        "Al-Mayadin",
        "35.0200",
        "40.4500",
    )
    assert out["geo_precision"] == "1"  # a town of the gazetteer
    assert out["source"] == "SOHR; BBC Arabic"
    assert out["source_scale"] == "National-International"
    assert out["fatalities"] == "12"
    assert out["timestamp"] == "1710417600"
    assert "[12 killed, 3 injured] [Marsad inc-1 r1]" in out["notes"]


def test_codes_follow_the_event(db: tuple[str, Connection]) -> None:
    _, conn = db
    rows = rows_of(
        conn,
        incident(
            "civ",
            perpetrator="TURKEY",
            targets=["CIVILIANS"],
            event_type="Explosions/Remote violence",
            sub_event_type="Air/drone strike",
            killed=None,
            occurred_on=None,
            first_seen_at="2024-03-14T09:00:00+00:00",
            location={
                "name_ar": "محافظة الحسكة",
                "name_en": "Al-Hasakah Governorate",
                "admin1": "SY-HA",
            },
        ),
        incident("alone", targets=[], occurred_on="2024-03-13", location=None),
    )
    by_id = {r.id: export.acled_row(r) for r in rows}
    civ = by_id["civ"]
    assert (civ["actor1"], civ["inter1"]) == ("Military Forces of Turkey", "8")  # abroad
    assert (civ["actor2"], civ["inter2"], civ["interaction"]) == ("Civilians (Syria)", "7", "78")
    assert civ["civilian_targeting"] == "Civilian targeting"
    assert civ["time_precision"] == "2"  # the day is when it was reported
    assert civ["fatalities"] == "0"  # ACLED's code for a toll not reported
    assert civ["notes"].startswith(
        "On 14 March 2024, Military Forces of Turkey vs. Civilians (Syria): air/drone strike"
        " in Al-Hasakah Governorate. [fatalities not reported, 3 injured]"
    )
    alone = by_id["alone"]
    assert (alone["actor2"], alone["inter2"], alone["interaction"]) == ("", "0", "20")
    assert (alone["iso"], alone["location"], alone["geo_precision"]) == ("", "", "3")


def test_every_actor_code_has_an_acled_name_and_a_valid_inter() -> None:
    m = export.mapping()
    for code in ACTOR_CODES:
        name, inter = m.actor(code, "SY")
        assert name and "{" not in name and 1 <= inter <= 8, code
    assert m.actor("IRAQ_GOV", "IQ") == ("Military Forces of Iraq", 1)
    assert m.actor("IRAQ_GOV", "SY")[1] == 8


def test_the_csv_has_a_header_and_one_line_per_incident(db: tuple[str, Connection]) -> None:
    _, conn = db
    rows = rows_of(conn, incident("a"), incident("b", evidence='قال "مصدر"، ثم, فاصلة'))
    fh = io.StringIO()
    assert export.write_csv(rows, fh) == 2
    read = list(csv.DictReader(io.StringIO(fh.getvalue())))
    assert [r["event_id_cnty"] for r in read] == ["SYR-a", "SYR-b"]
    assert list(read[0]) == list(export.ACLED_COLUMNS)


def test_geojson_is_a_feature_collection_longitude_first(db: tuple[str, Connection]) -> None:
    _, conn = db
    rows = rows_of(conn, incident("a"), incident("b", location=None))
    doc = export.geojson(rows)
    assert doc["type"] == "FeatureCollection"
    a, b = doc["features"]
    assert a["geometry"] == {"type": "Point", "coordinates": [40.45, 35.02]}
    assert a["properties"]["admin1_name"] == "Deir ez-Zor" and a["properties"]["killed"] == 12
    assert b["geometry"] is None
    json.dumps(doc)  # serializable as it is


def test_jsonl_gives_back_the_stored_records(db: tuple[str, Connection]) -> None:
    _, conn = db
    original = incident("a", extra="kept")
    rows = rows_of(conn, original)
    fh = io.StringIO()
    assert export.write_jsonl(rows, fh) == 1
    [line] = fh.getvalue().splitlines()
    data = json.loads(line)
    assert data["schema"] == 1 and data["extra"] == "kept"
    assert data["id"] == "a" and data["location"]["name_ar"] == "الميادين"


def test_marsad_export_filters_and_writes_a_file(
    db: tuple[str, Connection], tmp_path: Path
) -> None:
    url, conn = db
    rows_of(conn, incident("a"), incident("b", perpetrator="TURKEY", killed=1))
    conn.commit()
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        export.export_cmd,
        ["--database", url, "--all-dates", "--perpetrator", "ISIS", "--output", str(out)],
    )
    assert result.exit_code == 0, result.output
    read = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["event_id_cnty"] for r in read] == ["SYR-a"]

    result = CliRunner().invoke(
        export.export_cmd,
        ["--database", url, "--all-dates", "--format", "geojson", "--min-killed", "5"],
    )
    assert result.exit_code == 0, result.output
    assert [f["id"] for f in json.loads(result.output)["features"]] == ["a"]

    result = CliRunner().invoke(
        export.export_cmd, ["--database", url, "--since", "2024-03-15", "--format", "jsonl"]
    )
    assert result.exit_code == 0 and result.output == ""


def test_marsad_export_refuses_bad_filters(db: tuple[str, Connection]) -> None:
    url, _ = db
    for bad in (["--since", "14/03/2024"], ["--admin1", "Deir"], ["--perpetrator", "NOBODY"]):
        result = CliRunner().invoke(export.export_cmd, ["--database", url, *bad])
        assert result.exit_code == 2, (bad, result.output)
