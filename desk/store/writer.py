"""Writing records into the store: idempotent, so a redelivered message changes nothing.

Every write is an ``INSERT … ON CONFLICT DO NOTHING`` keyed by what identifies the record
(incident id + revision, alert id + revision, article id), in the dialect's own form (SQLite
and PostgreSQL both have it). Why not "select, then insert": two writers, or one writer
replaying after a crash, would race between the two; the database's own conflict rule is
atomic. Every revision is kept; the current-incident pointer only moves to a higher revision,
so revisions arriving out of order (or again) leave it on the latest. (A revision republished
with a new source and a later ``updated_at`` is the one update: see :func:`store_incident`.)

The caller owns the transaction: the service writes a whole batch of messages and commits
once, then commits its Kafka offsets.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from desk.store.schema import (
    AlertIncident,
    AlertRevision,
    IncidentArticle,
    IncidentCurrent,
    IncidentRevision,
    IncidentTarget,
)
from desk.store.schema import Article as ArticleTable
from marsad.records import Alert, Article, StoredIncident

__all__ = ["incident_day", "store_alert", "store_article", "store_incident"]


def _insert(dialect: str, table: Any) -> Any:
    """The dialect's INSERT (the generic one has no ``on_conflict_*``)."""
    t: Table = table.__table__
    if dialect == "postgresql":
        return postgresql.insert(t)
    if dialect == "sqlite":
        return sqlite.insert(t)
    raise ValueError(f"the store supports sqlite and postgresql, not {dialect}")


_REVISION_COLUMNS = tuple(
    c.name for c in IncidentRevision.__table__.columns if c.name not in ("incident_id", "revision")
)


@cache
def _statements(dialect: str) -> dict[str, Any]:
    """Each write's statement, built once per dialect and run with each record's values.

    Why once: building an ``ON CONFLICT`` clause (its ``excluded`` columns) costs more than
    running it; the statements' shapes never change, only their parameters.

    Inserts that say whether they wrote end in ``RETURNING <key>``: psycopg reports a row
    count of -1 for ``ON CONFLICT DO NOTHING`` whether it inserted or not, while a returned
    row means the same on every dialect."""
    revision = _insert(dialect, IncidentRevision)
    current = _insert(dialect, IncidentCurrent)
    link = _insert(dialect, IncidentArticle)
    return {
        "revision": revision.on_conflict_do_update(
            index_elements=["incident_id", "revision"],
            set_={k: revision.excluded[k] for k in _REVISION_COLUMNS},
            where=revision.excluded.updated_at > IncidentRevision.updated_at,
        ).returning(IncidentRevision.revision),
        "target": _insert(dialect, IncidentTarget).on_conflict_do_nothing(),
        "current": current.on_conflict_do_update(
            index_elements=["incident_id"],
            set_={
                "revision": current.excluded.revision,
                "day": current.excluded.day,
                "merged_into": current.excluded.merged_into,
            },
            where=current.excluded.revision >= IncidentCurrent.revision,
        ),
        "link": link.on_conflict_do_update(
            index_elements=["incident_id", "article_id"],
            set_={"first_revision": link.excluded.first_revision},
            where=link.excluded.first_revision < IncidentArticle.first_revision,
        ),
        "alert": _insert(dialect, AlertRevision)
        .on_conflict_do_nothing()
        .returning(AlertRevision.revision),
        "alert_incident": _insert(dialect, AlertIncident).on_conflict_do_nothing(),
        "article": _insert(dialect, ArticleTable)
        .on_conflict_do_nothing()
        .returning(ArticleTable.id),
    }


def _run(conn: Connection, name: str, values: Any) -> Any:
    return conn.execute(_statements(conn.dialect.name)[name], values)


def _wrote(conn: Connection, name: str, values: dict[str, Any]) -> bool:
    """Run a ``… RETURNING <key>`` write: True when a row went in (or was replaced)."""
    return _run(conn, name, values).first() is not None


def incident_day(incident: StoredIncident) -> date | None:
    """The day an incident belongs to on the map and timeline: when it happened, else when it
    was first (or last) seen."""
    if incident.occurred_on is not None:
        return incident.occurred_on
    seen = incident.first_seen_at or incident.updated_at
    return seen.date() if seen is not None else None


def _country(admin1: str | None) -> str | None:
    """ISO 3166-1 alpha-2 of an ISO 3166-2 code ("SY-DY" -> "SY")."""
    return admin1.split("-", 1)[0] if admin1 and "-" in admin1 else None


def store_incident(conn: Connection, incident: StoredIncident) -> bool:
    """Keep one incident revision; False when it was already stored (a redelivery).

    One exception to "the first copy wins": the stream republishes a revision under the same
    number when a report adds only a source (no toll or fact changed), with a later
    ``updated_at``. That copy replaces the stored one, so the source is not lost; an older or
    identical copy (a redelivery) changes nothing."""
    loc = incident.location
    day = incident_day(incident)
    values = {
        "incident_id": incident.id,
        "revision": incident.revision,
        "day": day,
        "occurred_on": incident.occurred_on,
        "event_type": incident.event_type,
        "sub_event_type": incident.sub_event_type,
        "perpetrator": incident.perpetrator,
        "targets": list(incident.targets),
        "country": _country(loc.admin1 if loc else None),
        "admin1": loc.admin1 if loc else None,
        "place_ar": loc.name_ar if loc else None,
        "place_en": loc.name_en if loc else None,
        "lat": loc.lat if loc else None,
        "lon": loc.lon if loc else None,
        "killed": incident.killed,
        "injured": incident.injured,
        "killed_by_actor": dict(incident.killed_by_actor),
        "confidence": incident.confidence,
        "first_seen_at": incident.first_seen_at,
        "updated_at": incident.updated_at,
        "merged_into": incident.merged_into,
        "record": incident.model_dump(mode="json"),
    }
    if not _wrote(conn, "revision", values):
        return False
    targets = sorted(set(incident.targets))
    if targets:
        key = {"incident_id": incident.id, "revision": incident.revision}
        _run(conn, "target", [{**key, "actor": t} for t in targets])
    _run(
        conn,
        "current",
        {
            "incident_id": incident.id,
            "revision": incident.revision,
            "day": day,
            "merged_into": incident.merged_into,
        },
    )
    article_ids = list(dict.fromkeys(incident.article_ids))
    if article_ids:
        _run(
            conn,
            "link",
            [
                {"incident_id": incident.id, "article_id": a, "first_revision": incident.revision}
                for a in article_ids
            ],
        )
    return True


def store_alert(conn: Connection, alert: Alert) -> bool:
    """Keep one alert revision; False when it was already stored."""
    inserted = _wrote(
        conn,
        "alert",
        {
            "alert_id": alert.id,
            "revision": alert.revision,
            "rule": alert.rule,
            "severity": alert.severity,
            "kind": alert.kind,
            "incident_ids": list(alert.incident_ids),
            "created_at": alert.created_at,
            "merged_into": alert.merged_into,
            "record": alert.model_dump(mode="json"),
        },
    )
    named = list(dict.fromkeys(alert.incident_ids))
    if alert.incident is not None and alert.incident.id not in named:
        named.append(alert.incident.id)
    if inserted and named:
        _run(conn, "alert_incident", [{"alert_id": alert.id, "incident_id": i} for i in named])
    return inserted


def store_article(conn: Connection, article: Article) -> bool:
    """Keep one article (the first copy of an id wins); False when it was already stored."""
    return _wrote(
        conn,
        "article",
        {
            "id": article.id,
            "title": article.title,
            "url": article.url,
            "source": article.source,
            "published_at": article.published_at,
            "text": article.text,
            "record": article.model_dump(mode="json"),
        },
    )
