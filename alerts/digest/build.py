"""The digest's figures from a set of incidents (pure: no I/O, the clock is an argument).

What is counted, and why this way:

* **one incident once**: the incidents topic carries every revision of an incident (its toll
  rises, reports join it); only the latest revision per id counts (:func:`latest_revisions`),
  and an incident whose latest revision is ``merged_into`` another is left out — its reports
  live on in the other one, which is counted.
* **event time, as the window rules use it** (``stream.merge.event_time``): the day the
  incident happened (``occurred_on``, at noon UTC), else its first report's publication time
  (``first_seen_at``, the earliest ``published_at`` of its reports). One change: never later
  than that first report (a report cannot precede its event), so an incident dated today and
  reported at 07:00 is in this morning's digest rather than tomorrow's. An incident with
  neither date is not placed in time: it is counted as ``undated`` and nowhere else.
* **periods end at the digest's time** (``now``, the scheduled moment, not whenever the post
  happens to be made), so a late or repeated digest shows the same figures: the last 24 h,
  and for the week-over-week change the last 7 days against the 7 before.
* **deaths** are the incidents' ``killed`` (not reported counts as 0).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Protocol
from zoneinfo import ZoneInfo

from alerts.labels import actor_name, governorate_name
from marsad.records import StoredIncident

DAY = timedelta(hours=24)
WEEK = timedelta(days=7)
#: how far back the figures look (the week before last week): what a source must provide
LOOKBACK = 2 * WEEK
#: how many of the deadliest incidents are listed
TOP = 5
#: the group name of incidents with no governorate
NO_PLACE = "place not reported"


class Correction(Protocol):
    """An analyst's correction of an alert, as the desk's action store keeps it."""

    @property
    def alert_id(self) -> str: ...
    @property
    def incident_id(self) -> str | None: ...
    @property
    def kind(self) -> str: ...  # "wrong_toll" | "not_incident" | "duplicate"
    @property
    def killed(self) -> int | None: ...
    @property
    def injured(self) -> int | None: ...
    @property
    def duplicate_of(self) -> str | None: ...
    @property
    def user(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def note(self) -> str: ...


@dataclass(frozen=True)
class Tally:
    incidents: int = 0
    killed: int = 0


@dataclass(frozen=True)
class Group:
    """Incidents and deaths of one governorate or one perpetrator."""

    code: str
    name: str
    incidents: int
    killed: int


@dataclass(frozen=True)
class Ranked:
    """One of the deadliest incidents, with the event time it was counted at."""

    incident: StoredIncident
    at: datetime


@dataclass(frozen=True)
class Digest:
    local_date: date
    tz: str
    #: the 24 h counted, as UTC instants: [start, end)
    start: datetime
    end: datetime
    day: Tally
    by_governorate: tuple[Group, ...]
    by_perpetrator: tuple[Group, ...]
    deadliest: tuple[Ranked, ...]
    #: the last 7 days and the 7 before them
    week: Tally
    previous_week: Tally
    muted: int
    corrections: tuple[Correction, ...]
    #: incidents with neither an event day nor a first report time (not counted)
    undated: int = 0
    #: where the source holds less than the two weeks asked for (a topic's retention): the
    #: oldest time it still holds; the week-over-week change then says it is partial
    held_from: datetime | None = None

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(ZoneInfo(self.tz))


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def event_time(inc: StoredIncident) -> datetime | None:
    """When the incident happened, as the digest counts it (see the module docstring)."""
    first = _aware(inc.first_seen_at) if inc.first_seen_at is not None else None
    if inc.occurred_on is not None:
        noon = datetime.combine(inc.occurred_on, dtime(12, 0), tzinfo=UTC)
        return min(noon, first) if first is not None else noon
    return first


def latest_revisions(incidents: Iterable[StoredIncident]) -> list[StoredIncident]:
    """The latest revision of each incident id (of equal revisions, the one seen last),
    without those merged into another incident."""
    latest: dict[str, StoredIncident] = {}
    for inc in incidents:
        held = latest.get(inc.id)
        if held is None or inc.revision >= held.revision:
            latest[inc.id] = inc
    return [inc for inc in latest.values() if not inc.merged_into]


def _tally(incidents: Sequence[StoredIncident]) -> Tally:
    return Tally(len(incidents), sum(inc.killed or 0 for inc in incidents))


def _groups(incidents: Sequence[StoredIncident], by: str) -> tuple[Group, ...]:
    members: dict[str, list[StoredIncident]] = defaultdict(list)
    for inc in incidents:
        if by == "governorate":
            code = (inc.location.admin1 if inc.location else None) or ""
        else:
            code = inc.perpetrator
        members[code].append(inc)
    groups = []
    for code, incs in members.items():
        if by == "governorate":
            name = (governorate_name(code) or code) if code else NO_PLACE
        else:
            name = actor_name(code)
        tally = _tally(incs)
        groups.append(Group(code, name, tally.incidents, tally.killed))
    return tuple(sorted(groups, key=lambda g: (-g.killed, -g.incidents, g.name)))


def _deadliest(timed: Sequence[tuple[StoredIncident, datetime]], top: int) -> tuple[Ranked, ...]:
    deadly = [(inc, at) for inc, at in timed if (inc.killed or 0) > 0]
    deadly.sort(key=lambda p: (-(p[0].killed or 0), -(p[0].injured or 0), -p[1].timestamp()))
    return tuple(Ranked(inc, at) for inc, at in deadly[:top])


def build_digest(
    incidents: Iterable[StoredIncident],
    now: datetime,
    tz: ZoneInfo,
    muted: int = 0,
    corrections: Sequence[Correction] = (),
    *,
    top: int = TOP,
    held_from: datetime | None = None,
) -> Digest:
    """The digest for the 24 h before ``now`` (an aware instant: the digest's time), with
    days and dates in ``tz``. ``incidents`` may hold any revisions of any period (at least
    :data:`LOOKBACK` before ``now``); ``muted`` and ``corrections`` are the desk's figures for
    the same 24 h (corrections outside it are left out). ``held_from``: the source holds
    nothing older than this (see :attr:`Digest.held_from`)."""
    end = _aware(now).astimezone(UTC)
    start = end - DAY
    timed: list[tuple[StoredIncident, datetime]] = []
    undated = 0
    for inc in latest_revisions(incidents):
        at = event_time(inc)
        if at is None:
            undated += 1
        else:
            timed.append((inc, at))
    day = [(inc, at) for inc, at in timed if start <= at < end]
    week = [inc for inc, at in timed if end - WEEK <= at < end]
    before = [inc for inc, at in timed if end - 2 * WEEK <= at < end - WEEK]
    day_incidents = [inc for inc, _ in day]
    fixes = sorted((c for c in corrections if start <= _aware(c.at) < end), key=lambda c: c.at)
    return Digest(
        local_date=end.astimezone(tz).date(),
        tz=tz.key,
        start=start,
        end=end,
        day=_tally(day_incidents),
        by_governorate=_groups(day_incidents, "governorate"),
        by_perpetrator=_groups(day_incidents, "perpetrator"),
        deadliest=_deadliest(day, top),
        week=_tally(week),
        previous_week=_tally(before),
        muted=muted,
        corrections=tuple(fixes),
        undated=undated,
        held_from=held_from if held_from is not None and held_from > end - 2 * WEEK else None,
    )


def change(current: int, previous: int) -> float | None:
    """Relative change in percent; ``None`` when there is nothing to compare with."""
    if previous == 0:
        return None
    return (current - previous) * 100.0 / previous
