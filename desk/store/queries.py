"""Read functions over a SQLAlchemy ``Connection``: what the pages and exports ask the store.

Each function takes an open connection and returns frozen records (``desk.store.records``);
none writes, none opens its own connection, so a caller decides the transaction and a test
passes an in-memory SQLite connection.

"Current" incidents are each id's latest revision, excluding those closed as merged into
another (``incident_current.merged_into IS NULL``); an incident's page still finds a merged
incident by id, so a Slack link to it keeps working and says where it went.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVarTuple

from sqlalchemy import Connection, Row, Select, exists, func, select

from desk.store.records import (
    AlertRow,
    ArticleRow,
    CountBy,
    DailyCount,
    Facets,
    IncidentDetail,
    IncidentFilter,
    IncidentRow,
    Revision,
)
from desk.store.schema import (
    AlertIncident,
    AlertRevision,
    Article,
    IncidentArticle,
    IncidentCurrent,
    IncidentRevision,
    IncidentTarget,
)
from marsad.records import Alert, StoredIncident

__all__ = [
    "daily_counts",
    "facets",
    "filtered",
    "incident_count",
    "incident_detail",
    "incidents",
    "recent_alerts",
]

R = IncidentRevision
C = IncidentCurrent
Ts = TypeVarTuple("Ts")

#: A revision read with Core (attribute access by column name, like the model's).
RevisionRow = Row[Any]


def _current() -> Select[Any]:
    """Every open incident's latest revision."""
    return (
        select(R.__table__)
        .join(C, (C.incident_id == R.incident_id) & (C.revision == R.revision))
        .where(C.merged_into.is_(None))
    )


def filtered(query: Select[*Ts], f: IncidentFilter) -> Select[*Ts]:
    """``query`` (over the current join) narrowed by ``f``."""
    if f.since is not None:
        query = query.where(C.day >= f.since)
    if f.until is not None:
        query = query.where(C.day <= f.until)
    if f.admin1:
        query = query.where(R.admin1.in_(f.admin1))
    if f.perpetrator:
        query = query.where(R.perpetrator.in_(f.perpetrator))
    if f.event_type:
        query = query.where(R.event_type.in_(f.event_type))
    if f.min_killed is not None:
        query = query.where(R.killed >= f.min_killed)
    if f.target:
        query = query.where(
            exists().where(
                (IncidentTarget.incident_id == R.incident_id)
                & (IncidentTarget.revision == R.revision)
                & IncidentTarget.actor.in_(f.target)
            )
        )
    return query


def _row(rev: RevisionRow) -> IncidentRow:
    raw = rev.record
    location = raw.get("location") or {}
    return IncidentRow(
        id=rev.incident_id,
        revision=rev.revision,
        day=rev.day,
        occurred_on=rev.occurred_on,
        event_type=rev.event_type,
        sub_event_type=rev.sub_event_type,
        perpetrator=rev.perpetrator,
        targets=tuple(rev.targets),
        country=rev.country,
        admin1=rev.admin1,
        place_ar=rev.place_ar or location.get("name_ar"),
        place_en=rev.place_en or location.get("name_en"),
        lat=rev.lat,
        lon=rev.lon,
        killed=rev.killed,
        injured=rev.injured,
        killed_by_actor={str(k): int(v) for k, v in rev.killed_by_actor.items()},
        confidence=rev.confidence,
        sources=tuple(raw.get("sources") or ()),
        summary_en=raw.get("summary_en"),
        first_seen_at=rev.first_seen_at,
        updated_at=rev.updated_at,
        merged_into=rev.merged_into,
        raw=raw,
    )


def _revisions(rows: Iterable[RevisionRow]) -> list[RevisionRow]:
    return list(rows)


def incidents(conn: Connection, f: IncidentFilter) -> list[IncidentRow]:
    """Current incidents matching ``f``, newest day first (then most recently updated)."""
    query = filtered(_current(), f).order_by(
        C.day.desc().nulls_last(), R.updated_at.desc().nulls_last(), R.incident_id
    )
    if f.limit is not None:
        query = query.limit(f.limit)
    return [_row(r) for r in _revisions(conn.execute(query))]


def incident_count(conn: Connection, f: IncidentFilter) -> int:
    """How many current incidents match ``f`` (``limit`` ignored)."""
    query = filtered(
        select(func.count())
        .select_from(R)
        .join(C, (C.incident_id == R.incident_id) & (C.revision == R.revision))
        .where(C.merged_into.is_(None)),
        f,
    )
    return int(conn.execute(query).scalar_one())


def daily_counts(conn: Connection, f: IncidentFilter, by: CountBy) -> list[DailyCount]:
    """Incidents and deaths per day and governorate (or perpetrator), oldest day first.

    An incident with no day is left out (it has no place on a timeline); a null toll counts
    no deaths."""
    key = R.admin1 if by == "admin1" else R.perpetrator
    query = filtered(
        select(C.day, key, func.count(), func.coalesce(func.sum(R.killed), 0))
        .select_from(R)
        .join(C, (C.incident_id == R.incident_id) & (C.revision == R.revision))
        .where(C.merged_into.is_(None), C.day.is_not(None))
        .group_by(C.day, key)
        .order_by(C.day, key),
        f,
    )
    return [
        DailyCount(day=day, key=k, incidents=int(n), deaths=int(d or 0))
        for day, k, n, d in conn.execute(query)
        if day is not None
    ]


def facets(conn: Connection) -> Facets:
    """The governorates, actors and event types present among current incidents."""

    def values(column: Any) -> tuple[str, ...]:
        query = (
            select(column)
            .distinct()
            .select_from(R)
            .join(C, (C.incident_id == R.incident_id) & (C.revision == R.revision))
            .where(C.merged_into.is_(None), column.is_not(None))
            .order_by(column)
        )
        return tuple(str(v) for v in conn.execute(query).scalars())

    targets = (
        select(IncidentTarget.actor)
        .distinct()
        .join(
            C,
            (C.incident_id == IncidentTarget.incident_id) & (C.revision == IncidentTarget.revision),
        )
        .where(C.merged_into.is_(None))
        .order_by(IncidentTarget.actor)
    )
    first, last = conn.execute(
        select(func.min(C.day), func.max(C.day)).where(C.merged_into.is_(None))
    ).one()
    return Facets(
        admin1=values(R.admin1),
        perpetrators=values(R.perpetrator),
        targets=tuple(conn.execute(targets).scalars()),
        event_types=values(R.event_type),
        first_day=first,
        last_day=last,
    )


def incident_detail(conn: Connection, incident_id: str) -> IncidentDetail | None:
    """Everything about one incident (open or merged), ``None`` when the id is unknown."""
    revs = _revisions(
        conn.execute(select(R.__table__).where(R.incident_id == incident_id).order_by(R.revision))
    )
    if not revs:
        return None
    revisions = _history(revs)
    article_ids = list(
        conn.execute(
            select(IncidentArticle.article_id)
            .where(IncidentArticle.incident_id == incident_id)
            .order_by(IncidentArticle.first_revision, IncidentArticle.article_id)
        ).scalars()
    )
    merged_from = tuple(
        conn.execute(
            select(C.incident_id).where(C.merged_into == incident_id).order_by(C.incident_id)
        ).scalars()
    )
    reasons = dict.fromkeys(reason for rev in revisions for reason in rev.merge_reasons)
    return IncidentDetail(
        current=_row(revs[-1]),
        revisions=tuple(revisions),
        articles=tuple(_articles(conn, article_ids)),
        alerts=tuple(_alerts_naming(conn, incident_id)),
        merge_reasons=tuple(reasons),
        merged_from=merged_from,
    )


def _history(revs: Sequence[RevisionRow]) -> list[Revision]:
    """Each revision with the sources and articles it added to the ones before."""
    out: list[Revision] = []
    seen_sources: set[str] = set()
    seen_articles: set[str] = set()
    for rev in revs:
        record = StoredIncident.model_validate(rev.record)
        out.append(
            Revision(
                revision=rev.revision,
                updated_at=rev.updated_at,
                killed=rev.killed,
                injured=rev.injured,
                killed_by_actor={str(k): int(v) for k, v in rev.killed_by_actor.items()},
                sources=tuple(record.sources),
                sources_added=tuple(s for s in record.sources if s not in seen_sources),
                article_ids=tuple(record.article_ids),
                articles_added=tuple(a for a in record.article_ids if a not in seen_articles),
                merged_into=rev.merged_into,
                merge_reasons=tuple(str(r) for r in rev.record.get("merge_reasons") or ()),
                record=record,
            )
        )
        seen_sources.update(record.sources)
        seen_articles.update(record.article_ids)
    return out


def _articles(conn: Connection, ids: Sequence[str]) -> list[ArticleRow]:
    """The articles ``ids`` name, oldest publication first; one never stored has no text."""
    found = {a.id: a for a in conn.execute(select(Article.__table__).where(Article.id.in_(ids)))}
    rows = [
        ArticleRow(
            id=i,
            title=found[i].title,
            url=found[i].url,
            source=found[i].source,
            published_at=found[i].published_at,
            text=found[i].text,
        )
        if i in found
        else ArticleRow(id=i, title=None, url=None, source=None, published_at=None, text=None)
        for i in ids
    ]
    order = {i: n for n, i in enumerate(ids)}
    return sorted(rows, key=lambda a: (a.published_at is None, a.published_at or 0, order[a.id]))


def _alert_row(rev: Row[Any]) -> AlertRow:
    record = Alert.model_validate(rev.record)
    return AlertRow(
        id=rev.alert_id,
        revision=rev.revision,
        rule=rev.rule,
        severity=rev.severity,
        kind=rev.kind,
        incident_ids=tuple(rev.incident_ids),
        created_at=rev.created_at,
        merged_into=rev.merged_into,
        summary_en=record.summary_en,
        summary_ar=record.summary_ar,
        record=record,
    )


def _latest_alerts() -> Select[Any]:
    latest = (
        select(AlertRevision.alert_id, func.max(AlertRevision.revision).label("revision"))
        .group_by(AlertRevision.alert_id)
        .subquery()
    )
    return select(AlertRevision.__table__).join(
        latest,
        (latest.c.alert_id == AlertRevision.alert_id)
        & (latest.c.revision == AlertRevision.revision),
    )


def _alerts_naming(conn: Connection, incident_id: str) -> list[AlertRow]:
    query = (
        _latest_alerts()
        .where(
            AlertRevision.alert_id.in_(
                select(AlertIncident.alert_id).where(AlertIncident.incident_id == incident_id)
            )
        )
        .order_by(AlertRevision.created_at.desc(), AlertRevision.alert_id)
    )
    return [_alert_row(r) for r in conn.execute(query)]


def recent_alerts(conn: Connection, limit: int = 50) -> list[AlertRow]:
    """The latest revision of the ``limit`` most recently created alerts, newest first."""
    query = (
        _latest_alerts()
        .order_by(AlertRevision.created_at.desc(), AlertRevision.alert_id)
        .limit(limit)
    )
    return [_alert_row(r) for r in conn.execute(query)]
