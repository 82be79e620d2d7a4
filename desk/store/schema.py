"""The store's tables (SQLAlchemy 2 typed models), one source for the queries and migrations.

Why revisions are rows: the stream publishes an incident again each time a report raises its
toll, adds a source or closes it as merged into a twin. Keeping every revision (keyed by
incident id and revision) is what gives the incident page its toll history, and it makes the
writer idempotent for free: a redelivered message is a key already present.

The columns are what the pages filter and sort on; the record itself is kept whole as JSON
(``record``), so a field added upstream is stored before any column knows it, and exports of
the stored records give back exactly what the topic carried.

``incident_current`` points at each incident's latest revision (one small row per incident),
so listing current incidents is one join rather than a "latest per group" subquery; the
writer moves the pointer only forward, whatever order revisions arrive in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Constraint names fixed by convention, so migrations name the same things on every dialect.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Ids, codes and names: bounded so PostgreSQL and SQLite store the same thing.
ID = String(200)
CODE = String(64)
NAME = String(300)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored as UTC and read back aware on every dialect.

    Why: SQLite has no time zones (SQLAlchemy writes the wall clock and drops the offset),
    so two reports at 10:00+03:00 and 07:00Z would sort apart there and together on
    PostgreSQL. Converting to UTC on the way in makes both store the same instant."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        utc = aware.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class IncidentRevision(Base):
    """One revision of one incident, as the ``incidents`` topic carried it."""

    __tablename__ = "incident_revision"

    incident_id: Mapped[str] = mapped_column(ID, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the day the pages filter on: ``occurred_on``, else the day it was first seen
    day: Mapped[date | None] = mapped_column(Date)
    occurred_on: Mapped[date | None] = mapped_column(Date)
    event_type: Mapped[str] = mapped_column(CODE)
    sub_event_type: Mapped[str] = mapped_column(CODE)
    perpetrator: Mapped[str] = mapped_column(CODE)
    #: the target actor codes, in the record's order (``incident_target`` is what filters)
    targets: Mapped[list[Any]] = mapped_column(JSON)
    #: ISO 3166-1 alpha-2, from admin1's prefix
    country: Mapped[str | None] = mapped_column(String(8))
    admin1: Mapped[str | None] = mapped_column(String(16))
    place_ar: Mapped[str | None] = mapped_column(NAME)
    place_en: Mapped[str | None] = mapped_column(NAME)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    killed: Mapped[int | None] = mapped_column(Integer)
    injured: Mapped[int | None] = mapped_column(Integer)
    killed_by_actor: Mapped[dict[str, Any]] = mapped_column(JSON)
    confidence: Mapped[float] = mapped_column(Float)
    first_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    merged_into: Mapped[str | None] = mapped_column(ID)
    #: the whole StoredIncident, as JSON
    record: Mapped[dict[str, Any]] = mapped_column(JSON)


class IncidentCurrent(Base):
    """Each incident's latest revision (merged incidents included: queries skip them)."""

    __tablename__ = "incident_current"
    __table_args__ = (
        ForeignKeyConstraint(
            ["incident_id", "revision"],
            ["incident_revision.incident_id", "incident_revision.revision"],
        ),
        Index("ix_incident_current_day", "day"),
    )

    incident_id: Mapped[str] = mapped_column(ID, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    #: copied from the revision, so the default "last 7 days" listing is an index range
    day: Mapped[date | None] = mapped_column(Date)
    #: copied from the revision: ``IS NULL`` is "still open"
    merged_into: Mapped[str | None] = mapped_column(ID)


class IncidentTarget(Base):
    """The targets of each revision, one row per actor: what the target filter joins."""

    __tablename__ = "incident_target"
    __table_args__ = (
        ForeignKeyConstraint(
            ["incident_id", "revision"],
            ["incident_revision.incident_id", "incident_revision.revision"],
        ),
        Index("ix_incident_target_actor", "actor"),
    )

    incident_id: Mapped[str] = mapped_column(ID, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(CODE, primary_key=True)


class Article(Base):
    """One article, as the ``articles`` topic carried it (an incident may name one that
    never reached the store: the link table has no foreign key to here)."""

    __tablename__ = "article"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    title: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(NAME)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)


class IncidentArticle(Base):
    """Which articles each incident was read from, and the revision that first named each."""

    __tablename__ = "incident_article"
    __table_args__ = (Index("ix_incident_article_article_id", "article_id"),)

    incident_id: Mapped[str] = mapped_column(ID, primary_key=True)
    article_id: Mapped[str] = mapped_column(ID, primary_key=True)
    first_revision: Mapped[int] = mapped_column(Integer)


class AlertRevision(Base):
    """One revision of one alert, as the ``alerts`` topic carried it."""

    __tablename__ = "alert_revision"

    alert_id: Mapped[str] = mapped_column(ID, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(NAME)
    severity: Mapped[str] = mapped_column(CODE)
    kind: Mapped[str] = mapped_column(CODE)
    incident_ids: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    merged_into: Mapped[str | None] = mapped_column(ID)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)


class AlertIncident(Base):
    """Which incidents each alert names (any revision): the incident page's "alerts raised"."""

    __tablename__ = "alert_incident"
    __table_args__ = (Index("ix_alert_incident_incident_id", "incident_id"),)

    alert_id: Mapped[str] = mapped_column(ID, primary_key=True)
    incident_id: Mapped[str] = mapped_column(ID, primary_key=True)


metadata = Base.metadata
