"""Typed records at the service boundaries: the shapes of ../shared/CONTRACT.md.

Every Kafka topic, the `marsad extract` output and the alert files carry these
records as UTF-8 JSON with ``"schema": 1``.  Fields named in the contract are
never renamed; everything Marsad adds is optional, so outside readers written
against the contract keep working.

Data flows one way: :class:`Article` (ingest) -> :class:`Extraction` with
:class:`Incident` / :class:`Tally` (stream.extract) -> :class:`StoredIncident`
(stream, merged across reports) -> :class:`Alert` (stream rules) -> Slack (alerts).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SCHEMA_VERSION = 1

EventType = Literal[
    "Battles",
    "Explosions/Remote violence",
    "Violence against civilians",
    "Strategic developments",
]

#: ACLED sub-event types the contract names, by event type.
SUB_EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "Battles": (
        "Armed clash",
        "Government regains territory",
        "Non-state actor overtakes territory",
    ),
    "Explosions/Remote violence": (
        "Air/drone strike",
        "Suicide bomb",
        "Shelling/artillery/missile attack",
        "Remote explosive/landmine/IED",
        "Grenade",
    ),
    "Violence against civilians": ("Attack", "Abduction/forced disappearance"),
    "Strategic developments": ("Other",),
}

#: Actor codes of the contract.
ACTOR_CODES: tuple[str, ...] = (
    "ISIS",
    "SYRIAN_GOV",
    "IRAN_BACKED",
    "RUSSIA",
    "SDF",
    "COALITION",
    "TURKEY",
    "IRAQ_GOV",
    "OPPOSITION",
    "HTS",
    "ISRAEL",
    "CIVILIANS",
    "UNKNOWN",
)

Qualifier = Literal["exact", "approx", "more_than", "at_least", "vague"]


class RecordError(ValueError):
    """A message could not be read as the record its topic carries."""


class _Record(BaseModel):
    """Base: unknown fields are kept (the contract may be extended upstream)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_json(self) -> str:
        """Serialize with the contract's ``schema`` marker, nulls kept (null = not reported)."""
        data = self.model_dump(mode="json")
        data.setdefault("schema", SCHEMA_VERSION)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    def to_bytes(self) -> bytes:
        return self.to_json().encode("utf-8")

    @classmethod
    def from_json(cls, raw: str | bytes | dict[str, Any]) -> Any:
        """Parse and validate; raise :class:`RecordError` with a readable reason."""
        try:
            data = raw if isinstance(raw, dict) else json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RecordError(f"not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise RecordError("not a JSON object")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "<root>"
            raise RecordError(f"{where}: {first['msg']}") from exc


class Article(_Record):
    """One news report, as `marsad extract` reads it and the `articles` topic carries it."""

    id: str
    text: str
    title: str | None = None
    published_at: datetime | None = None
    url: str | None = None
    source: str | None = None
    language: str | None = None
    feed_url: str | None = None
    fetched_at: datetime | None = None


class Location(_Record):
    name_ar: str
    name_en: str
    admin1: str | None = None
    lat: float | None = None
    lon: float | None = None


class Incident(_Record):
    """One attack, clash, strike or explosion (or one continuing battle's current toll)."""

    event_type: EventType = "Battles"
    sub_event_type: str = "Armed clash"
    perpetrator: str = "UNKNOWN"
    targets: list[str] = Field(default_factory=list)
    location: Location | None = None
    occurred_on: date | None = None
    killed: int | None = None
    injured: int | None = None
    captured: int | None = None
    killed_by_actor: dict[str, int] = Field(default_factory=dict)
    background: bool = False
    evidence: str = ""
    confidence: float = 0.5
    # Marsad extensions (optional in the contract's sense).
    killed_qualifier: Qualifier | None = None
    injured_qualifier: Qualifier | None = None
    summary_en: str | None = None
    evidence_span: tuple[int, int] | None = None
    #: the signals that set ``confidence`` (see stream/extract/confidence.py)
    confidence_signals: list[str] = Field(default_factory=list)


class Tally(_Record):
    """A running total over a period: never an incident, never an incident alert."""

    killed: int | None = None
    injured: int | None = None
    actor: str = "UNKNOWN"
    since: date | None = None
    evidence: str = ""


class Extraction(_Record):
    """One output line of `marsad extract`: the incidents and tallies of one article."""

    id: str
    incidents: list[Incident] = Field(default_factory=list)
    tallies: list[Tally] = Field(default_factory=list)


class StoredIncident(Incident):
    """An incident on the `incidents` topic: merged across reports, revised as tolls rise."""

    id: str
    article_ids: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    revision: int = 1
    urls: list[str] = Field(default_factory=list)
    first_seen_at: datetime | None = None
    updated_at: datetime | None = None


class Alert(_Record):
    """An alert on the `alerts` topic; a later revision of the same id updates it."""

    id: str
    rule: str
    severity: Literal["info", "warning", "critical"] = "warning"
    incident_ids: list[str] = Field(default_factory=list)
    summary_ar: str = ""
    summary_en: str = ""
    revision: int = 1
    created_at: datetime
    # Marsad extensions: what the notifier needs to render without reaching back.
    kind: Literal["incident", "window", "surge"] = "incident"
    incident: StoredIncident | None = None
    window: dict[str, Any] | None = None
    changes: list[str] = Field(default_factory=list)


def error_line(article_id: str | None, error: str) -> str:
    """The contract's line for a bad input line: ``{"id": …, "error": …}``."""
    return json.dumps({"id": article_id, "error": error}, ensure_ascii=False)
