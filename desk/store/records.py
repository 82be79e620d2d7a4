"""What the store's queries return: frozen records, never ORM objects.

Why not the ORM rows: a page or an export that holds a row must not be able to change the
database, load more behind the caller's back, or break when the session closes. These are
plain values; ``record`` gives the contract's own record back when a caller needs every field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any, Literal

from marsad.records import Alert, StoredIncident

#: How the timeline groups incidents.
CountBy = Literal["admin1", "perpetrator"]

#: How far back the pages look when no date is given.
DEFAULT_DAYS = 7


def default_since(today: date | None = None, days: int = DEFAULT_DAYS) -> date:
    """The default filter's first day: ``days`` days before today (UTC), today included."""
    return (today or datetime.now(UTC).date()) - timedelta(days=days - 1)


@dataclass(frozen=True)
class IncidentFilter:
    """Which current incidents a page or export wants; every tuple means "any of".

    Dates are inclusive and match the incident's ``day`` (``occurred_on``, else the day it was
    first seen); ``since=None`` has no lower bound. The default is the last seven days.
    """

    since: date | None = field(default_factory=default_since)
    until: date | None = None
    admin1: tuple[str, ...] = ()
    perpetrator: tuple[str, ...] = ()
    target: tuple[str, ...] = ()
    event_type: tuple[str, ...] = ()
    #: killed >= this; an incident whose toll is not reported (null) never matches
    min_killed: int | None = None
    #: at most this many, newest first
    limit: int | None = None


@dataclass(frozen=True)
class IncidentRow:
    """One incident's latest revision: the columns pages show, and the record it came from."""

    id: str
    revision: int
    day: date | None
    occurred_on: date | None
    event_type: str
    sub_event_type: str
    perpetrator: str
    targets: tuple[str, ...]
    country: str | None
    admin1: str | None
    place_ar: str | None
    place_en: str | None
    lat: float | None
    lon: float | None
    killed: int | None
    injured: int | None
    killed_by_actor: dict[str, int]
    confidence: float
    sources: tuple[str, ...]
    summary_en: str | None
    first_seen_at: datetime | None
    updated_at: datetime | None
    merged_into: str | None
    #: the StoredIncident as the topic carried it (JSON object)
    raw: dict[str, Any] = field(repr=False, compare=False)

    @cached_property
    def record(self) -> StoredIncident:
        """``raw`` read as the contract's record (parsed on first use: listings need not)."""
        return StoredIncident.model_validate(self.raw)


@dataclass(frozen=True)
class Revision:
    """One revision of an incident, with what it added to the one before."""

    revision: int
    updated_at: datetime | None
    killed: int | None
    injured: int | None
    killed_by_actor: dict[str, int]
    sources: tuple[str, ...]
    sources_added: tuple[str, ...]
    article_ids: tuple[str, ...]
    articles_added: tuple[str, ...]
    merged_into: str | None
    merge_reasons: tuple[str, ...]
    record: StoredIncident = field(repr=False, compare=False)


@dataclass(frozen=True)
class ArticleRow:
    """An article behind an incident; ``text`` is None when it never reached the store."""

    id: str
    title: str | None
    url: str | None
    source: str | None
    published_at: datetime | None
    text: str | None


@dataclass(frozen=True)
class AlertRow:
    """An alert's latest revision."""

    id: str
    revision: int
    rule: str
    severity: str
    kind: str
    incident_ids: tuple[str, ...]
    created_at: datetime
    merged_into: str | None
    summary_en: str
    summary_ar: str
    record: Alert = field(repr=False, compare=False)


@dataclass(frozen=True)
class IncidentDetail:
    """Everything the incident page shows."""

    current: IncidentRow
    #: oldest first: the toll's history and the sources each revision added
    revisions: tuple[Revision, ...]
    #: every article behind any revision, oldest publication first
    articles: tuple[ArticleRow, ...]
    #: alerts that name this incident, newest first
    alerts: tuple[AlertRow, ...]
    #: why reports were merged into this incident, in revision order, each once
    merge_reasons: tuple[str, ...]
    #: incidents whose last revision says they were merged into this one
    merged_from: tuple[str, ...]


@dataclass(frozen=True)
class DailyCount:
    """Incidents and deaths on one day for one governorate or actor (``key`` None: not said)."""

    day: date
    key: str | None
    incidents: int
    deaths: int


@dataclass(frozen=True)
class Facets:
    """What current incidents contain: the choices a filter form offers."""

    admin1: tuple[str, ...]
    perpetrators: tuple[str, ...]
    targets: tuple[str, ...]
    event_types: tuple[str, ...]
    first_day: date | None
    last_day: date | None
