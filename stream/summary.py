"""One-line Arabic and English summaries of incidents and windows, for alerts.

Built from the record's fields only (no extraction here): the extractor's own
``summary_en`` wins when it set one, since it saw the article.
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


def incident_summary_en(inc: StoredIncident) -> str:
    """The extractor's summary when it wrote one (it saw the article), else the same builder."""
    return inc.summary_en or summarize(inc)


def incident_summary_ar(inc: StoredIncident) -> str:
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
        text += f" (المصادر: {'، '.join(inc.sources)})"
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
