"""One-line Arabic and English summaries of incidents and windows, for alerts.

Built from the record's fields only (no extraction here), every time an alert is made:
an incident's fields change as reports are merged (a later report names the perpetrator or
the place), so a summary stored at extraction (``StoredIncident.summary_en``) would soon
contradict the alert's own fields. It is never read here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from marsad.records import StoredIncident
from marsad.vocabulary import actor_name
from stream.extract.summary import summarize

EVENT_AR: dict[str, str] = {
    "Battles": "اشتباكات",
    "Explosions/Remote violence": "قصف أو تفجير",
    "Violence against civilians": "عنف ضد المدنيين",
    "Strategic developments": "تطورات",
}


def _place(inc: StoredIncident, arabic: bool) -> str:
    loc = inc.location
    if loc is None:
        return ""
    name = loc.name_ar if arabic else loc.name_en
    return f"{name} ({loc.admin1})" if loc.admin1 else name


#: sources named in the Arabic summary; the rest are counted ("و3 مصادر أخرى")
MAX_SOURCES_AR = 5


def incident_summary_en(inc: StoredIncident) -> str:
    """The incident's current fields in one English line (the stored ``summary_en`` ignored)."""
    return summarize(inc)


def _sources_ar(sources: list[str]) -> str:
    shown = "، ".join(sources[:MAX_SOURCES_AR])
    rest = len(sources) - MAX_SOURCES_AR
    return f"{shown} و{rest} مصادر أخرى" if rest > 0 else shown


def incident_summary_ar(inc: StoredIncident) -> str:
    """The incident's current fields in one Arabic line."""
    parts = []
    if inc.killed is not None:
        parts.append(f"{inc.killed} قتيلاً")
    if inc.injured is not None:
        parts.append(f"{inc.injured} جريحاً")
    toll = " و".join(parts) or "حصيلة غير معروفة"
    text = f"{toll} في {EVENT_AR.get(inc.event_type, inc.event_type)}"
    text += f" نفذها {actor_name(inc.perpetrator, 'ar')}"
    place = _place(inc, arabic=True)
    if place:
        text += f" قرب {place}"
    if inc.occurred_on:
        text += f" بتاريخ {inc.occurred_on.isoformat()}"
    if inc.sources:
        text += f" (المصادر: {_sources_ar(inc.sources)})"
    return text


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def window_summary_en(
    rule: str, metric: str, group: str, total: int, start: float, end: float, extra: str = ""
) -> str:
    what = "incidents" if metric == "count" else "killed"
    text = f"{total} {what} for {group} between {_day(start)} and {_day(end)} UTC (rule {rule})"
    return f"{text}; {extra}" if extra else text


def window_summary_ar(
    metric: str, group: str, total: int, start: float, end: float, extra: str = ""
) -> str:
    what = "حادثة" if metric == "count" else "قتيلاً"
    name = actor_name(group, "ar")
    text = f"{total} {what} في {name} بين {_day(start)} و{_day(end)} (UTC)"
    return f"{text}؛ {extra}" if extra else text
