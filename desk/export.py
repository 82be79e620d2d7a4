"""Stored incidents out of Marsad: ACLED-compatible CSV, GeoJSON, and the records as JSON Lines.

Why ACLED's columns: analysts already load ACLED's exports into their sheets, GIS and
scripts; Marsad's rows with the same names, order and codes load in the same places. The
mapping from Marsad's codes to ACLED's actor names, "inter" codes, countries and precisions is
data (``desk/data/acled.yaml``), validated when first used; governorate names come from the
gazetteer (``marsad.vocabulary``), like everywhere else.

Every function here is pure (rows in, rows or documents out) except the writers, which take
the file they write; ``marsad export`` (:func:`export_cmd`) is the command around them and the
web serves ``/export.csv`` with :func:`write_csv`.
"""

from __future__ import annotations

import csv
import json
import logging
import sys
from collections.abc import Iterable, Iterator
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TextIO

import click
import yaml
from pydantic import BaseModel, ConfigDict, Field

from desk.store.records import IncidentFilter, IncidentRow
from marsad.commands import Command, file_option
from marsad.config_files import ConfigFile
from marsad.records import ACTOR_CODES, EVENT_TYPES
from marsad.vocabulary import DATA_DIR as KERNEL_DATA
from marsad.vocabulary import governorate_name

log = logging.getLogger(__name__)

#: ACLED's export columns, in ACLED's order.
ACLED_COLUMNS: tuple[str, ...] = (
    "event_id_cnty",
    "event_date",
    "time_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "inter1",
    "actor2",
    "assoc_actor_2",
    "inter2",
    "interaction",
    "civilian_targeting",
    "iso",
    "country",
    "admin1",
    "admin2",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "source_scale",
    "notes",
    "fatalities",
    "timestamp",
)

MAPPING_FILE = Path(__file__).resolve().parent / "data" / "acled.yaml"

Format = Literal["acled-csv", "geojson", "jsonl"]


# --------------------------------------------------------------------------- the mapping


class _Actor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    inter: int = Field(ge=1, le=8)
    #: whose state forces these are: coded 8 (external) outside that country
    home: str | None = None


class _Country(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    iso: int
    alpha3: str


class _GeoPrecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: int = Field(ge=1, le=3)
    unknown: int = Field(ge=1, le=3)
    no_location: int = Field(ge=1, le=3)
    kinds: dict[str, int] = Field(default_factory=dict)


class _SourceScales(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: str = ""
    sources: dict[str, str] = Field(default_factory=dict)


class AcledMapping(BaseModel):
    """``desk/data/acled.yaml``: Marsad's codes as ACLED codes them."""

    model_config = ConfigDict(extra="forbid")

    actors: dict[str, _Actor]
    countries: dict[str, _Country]
    disorder_types: dict[str, str]
    geo_precision: _GeoPrecision
    source_scales: _SourceScales

    def actor(self, code: str, country: str | None) -> tuple[str, int]:
        """ACLED's name and inter code of an actor in an event in ``country`` (alpha-2)."""
        actor = self.actors.get(code) or self.actors["UNKNOWN"]
        where = self.countries.get(country or "")
        name = actor.name.format(country=where.name if where else "International")
        inter = 8 if actor.home is not None and actor.home != country else actor.inter
        return name, inter


MAPPING = ConfigFile(
    model=AcledMapping,
    what="ACLED mapping",
    shape="a mapping with 'actors', 'countries', 'disorder_types', 'geo_precision'",
)


@lru_cache(maxsize=1)
def mapping() -> AcledMapping:
    """The shipped mapping (a ConfigError naming file:line if it is broken)."""
    loaded = MAPPING.load(MAPPING_FILE)
    missing = sorted(set(ACTOR_CODES) - set(loaded.actors))
    if missing:
        raise MAPPING.error(f"actors: no ACLED name for {', '.join(missing)}", MAPPING_FILE)
    return loaded


@lru_cache(maxsize=1)
def _place_kinds() -> dict[tuple[str, str | None], str]:
    """(English name, admin1) -> gazetteer kind, for geo_precision."""
    places = yaml.load((KERNEL_DATA / "places.yaml").read_text("utf-8"), Loader=_Loader)
    return {(p["name_en"], p.get("admin1")): p["kind"] for p in places["places"]}


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# --------------------------------------------------------------------------- ACLED rows


def geo_precision(row: IncidentRow, m: AcledMapping) -> int:
    """1 the place itself, 2 near it or part of a region, 3 only a large region."""
    if not row.place_en:
        return m.geo_precision.no_location
    kind = _place_kinds().get((row.place_en, row.admin1))
    if kind is None:
        return m.geo_precision.unknown
    return m.geo_precision.kinds.get(kind, m.geo_precision.default)


def source_scale(sources: Iterable[str], m: AcledMapping) -> str:
    """The outlets' scales, each once, joined with "-" as ACLED joins them."""
    scales = [m.source_scales.sources.get(s, m.source_scales.default) for s in sources]
    return "-".join(dict.fromkeys(s for s in scales if s))


def notes(row: IncidentRow, actor1: str, actor2: str) -> str:
    """What happened in a sentence (the record's English summary when it has one), and which
    Marsad incident revision the row is, so an analyst can find it on the desk."""
    when = f"{row.day.day} {row.day:%B %Y}" if row.day else "an unknown date"
    place = row.place_en or ""
    region = governorate_name(row.admin1) or ""
    where = ", ".join(p for p in (place, region if region not in place else "") if p)
    summary = row.summary_en or (
        f"On {when}, {actor1}{' vs. ' + actor2 if actor2 else ''}: {row.sub_event_type.lower()}"
        f"{' in ' + where if where else ''}."
    )
    toll = [f"{row.killed} killed" if row.killed is not None else "fatalities not reported"]
    if row.injured is not None:
        toll.append(f"{row.injured} injured")
    tail = f" [{', '.join(toll)}]"
    return f"{summary.rstrip()}{tail} [Marsad {row.id} r{row.revision}]"


def acled_row(row: IncidentRow, m: AcledMapping | None = None) -> dict[str, str]:
    """One incident as an ACLED row (every value a string, empty when unknown)."""
    m = m or mapping()
    country = m.countries.get(row.country or "")
    actor1, inter1 = m.actor(row.perpetrator, row.country)
    targets = [t for t in row.targets if t != row.perpetrator] or list(row.targets)
    actor2, inter2 = m.actor(targets[0], row.country) if targets else ("", 0)
    assoc2 = "; ".join(m.actor(t, row.country)[0] for t in targets[1:])
    if inter2:
        low, high = sorted((inter1, inter2))
        interaction = f"{low}{high}"
    else:
        interaction = f"{inter1}0"
    civilians = row.event_type == "Violence against civilians" or "CIVILIANS" in row.targets
    stamp = row.updated_at or row.first_seen_at
    return {
        "event_id_cnty": f"{country.alpha3 if country else 'XXX'}-{row.id}",
        "event_date": row.day.isoformat() if row.day else "",
        "time_precision": "1" if row.occurred_on is not None else "2",
        "disorder_type": m.disorder_types.get(row.event_type, "Political violence"),
        "event_type": row.event_type,
        "sub_event_type": row.sub_event_type,
        "actor1": actor1,
        "assoc_actor_1": "",
        "inter1": str(inter1),
        "actor2": actor2,
        "assoc_actor_2": assoc2,
        "inter2": str(inter2),
        "interaction": interaction,
        "civilian_targeting": "Civilian targeting" if civilians else "",
        "iso": str(country.iso) if country else "",
        "country": country.name if country else (row.country or ""),
        "admin1": governorate_name(row.admin1) or "",
        "admin2": "",
        "location": row.place_en or "",
        "latitude": f"{row.lat:.4f}" if row.lat is not None else "",
        "longitude": f"{row.lon:.4f}" if row.lon is not None else "",
        "geo_precision": str(geo_precision(row, m)),
        "source": "; ".join(row.sources),
        "source_scale": source_scale(row.sources, m),
        "notes": notes(row, actor1, actor2),
        # ACLED codes an unreported toll as 0 (its conservative rule)
        "fatalities": str(row.killed or 0),
        "timestamp": str(int(stamp.timestamp())) if stamp else "",
    }


def acled_rows(rows: Iterable[IncidentRow]) -> Iterator[dict[str, str]]:
    """ACLED rows of ``rows``, in their order."""
    m = mapping()
    for row in rows:
        yield acled_row(row, m)


def write_csv(rows: Iterable[IncidentRow], fh: TextIO) -> int:
    """The header and one ACLED row per incident to ``fh``; how many rows were written."""
    writer = csv.DictWriter(fh, fieldnames=ACLED_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for out in acled_rows(rows):
        writer.writerow(out)
        count += 1
    return count


# --------------------------------------------------------------------------- GeoJSON, JSONL


def feature(row: IncidentRow) -> dict[str, Any]:
    """One incident as a GeoJSON Feature (``geometry`` null when the place has no point)."""
    geometry = (
        {"type": "Point", "coordinates": [row.lon, row.lat]}
        if row.lat is not None and row.lon is not None
        else None
    )
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": geometry,
        "properties": {
            "id": row.id,
            "revision": row.revision,
            "day": row.day.isoformat() if row.day else None,
            "occurred_on": row.occurred_on.isoformat() if row.occurred_on else None,
            "event_type": row.event_type,
            "sub_event_type": row.sub_event_type,
            "perpetrator": row.perpetrator,
            "targets": list(row.targets),
            "country": row.country,
            "admin1": row.admin1,
            "admin1_name": governorate_name(row.admin1),
            "place_en": row.place_en,
            "place_ar": row.place_ar,
            "killed": row.killed,
            "injured": row.injured,
            "killed_by_actor": dict(row.killed_by_actor),
            "confidence": row.confidence,
            "sources": list(row.sources),
            "summary_en": row.summary_en,
            "updated_at": row.updated_at.isoformat() if row.updated_at else None,
        },
    }


def geojson(rows: Iterable[IncidentRow]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of ``rows`` (RFC 7946: longitude first, WGS84)."""
    return {"type": "FeatureCollection", "features": [feature(r) for r in rows]}


def write_jsonl(rows: Iterable[IncidentRow], fh: TextIO) -> int:
    """Each incident's stored record, as the ``incidents`` topic carried it, one per line."""
    count = 0
    for row in rows:
        data = dict(row.raw)
        data.setdefault("schema", 1)
        fh.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    return count


def write(rows: list[IncidentRow], fmt: Format, fh: TextIO) -> int:
    """``rows`` to ``fh`` in ``fmt``; how many incidents were written."""
    if fmt == "acled-csv":
        return write_csv(rows, fh)
    if fmt == "geojson":
        json.dump(geojson(rows), fh, ensure_ascii=False, indent=1)
        fh.write("\n")
        return len(rows)
    return write_jsonl(rows, fh)


# --------------------------------------------------------------------------- the command


def _parse_day(_ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param=param) from None


def _admin1_code(_ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> Any:
    for code in value:
        country, _, rest = code.partition("-")
        if not (len(country) == 2 and country.isalpha() and rest.isalnum()):
            raise click.BadParameter(f"{code!r} is not an ISO 3166-2 code (SY-DY)", param=param)
    return tuple(c.upper() for c in value)


@click.command("export", cls=Command)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["acled-csv", "geojson", "jsonl"]),
    default="acled-csv",
    show_default=True,
    help="ACLED's columns as CSV, a GeoJSON FeatureCollection, or the stored records.",
)
@click.option("--since", callback=_parse_day, help="first day, YYYY-MM-DD [default: 7 days ago]")
@click.option("--until", callback=_parse_day, help="last day, YYYY-MM-DD (inclusive)")
@click.option("--all-dates", is_flag=True, help="no date bound (every stored incident).")
@click.option(
    "--admin1", multiple=True, callback=_admin1_code, help="governorate (ISO 3166-2), repeatable"
)
@click.option("--perpetrator", multiple=True, type=click.Choice(ACTOR_CODES), help="repeatable")
@click.option("--target", multiple=True, type=click.Choice(ACTOR_CODES), help="repeatable")
@click.option("--event-type", multiple=True, type=click.Choice(EVENT_TYPES), help="repeatable")
@click.option("--min-killed", type=click.IntRange(min=0), default=None)
@click.option(
    "--database",
    "database_url",
    default=None,
    metavar="URL",
    help="SQLAlchemy URL [default: $MARSAD_DATABASE_URL, else SQLite in $MARSAD_HOME].",
)
@file_option("--output", "output", "file to write [default: standard output]")
def export_cmd(
    fmt: Format,
    since: date | None,
    until: date | None,
    all_dates: bool,
    admin1: tuple[str, ...],
    perpetrator: tuple[str, ...],
    target: tuple[str, ...],
    event_type: tuple[str, ...],
    min_killed: int | None,
    database_url: str | None,
    output: Path | None,
) -> None:
    """Export stored incidents (current revisions, merged ones left out), newest first."""
    from desk.store.engine import open_engine
    from desk.store.migrate import ready
    from desk.store.queries import incidents

    base = IncidentFilter()
    f = IncidentFilter(
        since=None if all_dates else (since or base.since),
        until=until,
        admin1=admin1,
        perpetrator=perpetrator,
        target=target,
        event_type=event_type,
        min_killed=min_killed,
    )
    mapping()  # a broken mapping file ends the command before anything is written
    engine = open_engine(database_url)
    try:
        ready(engine)  # an empty database exports nothing rather than failing
        with engine.connect() as conn:
            rows = incidents(conn, f)
    finally:
        engine.dispose()
    if output is None:
        count = write(rows, fmt, sys.stdout)
    else:
        with output.open("w", encoding="utf-8", newline="") as fh:
            count = write(rows, fmt, fh)
    log.info("exported %d incident(s) as %s to %s", count, fmt, output or "stdout")
