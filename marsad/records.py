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
from typing import Any, Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from marsad.errors import MarsadError

SCHEMA_VERSION = 1

# -- the closed sets -------------------------------------------------------------------------
# Each set is written once, as a ``Literal`` type; the tuples beside some of them are the same
# values to iterate over (``typing.get_args``), never a second list to keep in step. On the
# wire a value is its plain string, so typing a field with one of these changes no byte.

#: ACLED event types (the contract's "Event types").
EventType = Literal[
    "Battles",
    "Explosions/Remote violence",
    "Violence against civilians",
    "Strategic developments",
]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)

#: ACLED sub-event types the contract names ("Other" is the extractor's for Strategic
#: developments, which the contract lists without sub-types).
SubEventType = Literal[
    "Armed clash",
    "Government regains territory",
    "Non-state actor overtakes territory",
    "Air/drone strike",
    "Suicide bomb",
    "Shelling/artillery/missile attack",
    "Remote explosive/landmine/IED",
    "Grenade",
    "Attack",
    "Abduction/forced disappearance",
    "Other",
]

#: The sub-event types of each event type.
SUB_EVENT_TYPES: dict[EventType, tuple[SubEventType, ...]] = {
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

#: Actor codes of the contract (the keys of stream/extract/data/actors.yaml).
ActorCode = Literal[
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
]
ACTOR_CODES: tuple[ActorCode, ...] = get_args(ActorCode)

#: A gold line's ``gold`` keys and the fields every gold incident gives
#: (``GOLD-CONVENTIONS.md``): what gold checkers and writers hold a gold line to.
GOLD_FIELDS: tuple[str, ...] = ("incidents", "tallies", "max_incident_killed", "notes")
GOLD_INCIDENT_FIELDS: tuple[str, ...] = (
    "killed",
    "injured",
    "admin1",
    "perpetrator",
    "targets",
    "event_type",
    "sub_event_type",
    "occurred_on",
)

#: How exactly a toll was told: "exact" (a plain number), "approx" (نحو، حوالي), "more_than"
#: (أكثر من), "at_least" (على الأقل), "vague" (عشرات = 10: ACLED's conservative coding).
Qualifier = Literal["exact", "approx", "more_than", "at_least", "vague"]
#: The qualifiers a number's own words can set (stream/extract/data/numbers.yaml's
#: ``qualifiers_before`` / ``qualifiers_after``, and "vague" for عشرات/مئات/آلاف); "exact"
#: is what a toll with none of them is.
NumberQualifier = Literal["approx", "more_than", "at_least", "vague"]

#: An alert's severity (a rule's ``severity``).
Severity = Literal["info", "warning", "critical"]
#: What raised an alert: one incident, a window total, or a surge over the baseline.
AlertKind = Literal["incident", "window", "surge"]

# The extractor's own closed sets (stream/extract): not fields of a record, but typed here
# beside the contract's so a reader finds every vocabulary in one file.

#: What happened to the people a casualty count counts: the ``roles`` keys of
#: stream/extract/data/triggers.yaml. "executed" adds to ``killed``; "arrested" is read and
#: then left out of every toll, and so is "none" (a count whose nearest role word only looks
#: like a death: "جرائم قتل", a court's death sentence).
CasualtyRole = Literal["killed", "injured", "captured", "arrested", "executed", "none"]
#: How a number was written: digits, number words, a dual noun ("مدنيان" = 2), a vague round
#: quantity ("عشرات"), or a singular person noun that counts one ("مقتل عنصر").
QuantityKind = Literal["digit", "word", "dual", "vague", "singular"]
#: What an actor mention is in its sentence: the side that attacked, the side attacked, or a
#: side fighting beside another ("بمساندة …"); None when the sentence does not say.
ActorRole = Literal["attacker", "target", "partner", "speaker"]
#: How a date was written: a full date, a month's day, a year alone, a relative day
#: ("أمس"), a weekday ("يوم الخميس").
DateKind = Literal["absolute", "month", "year", "relative", "weekday"]


class RecordError(MarsadError, ValueError):
    """A message could not be read as the record its topic carries.

    ``ValueError`` stays a base so code that caught the older ``ValueError`` still does."""


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
    def from_json(cls, raw: str | bytes | dict[str, Any]) -> Self:
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
    #: Marsad extension: the report places the event *around* this place ("جنوب تدمر",
    #: "بادية الرصافة"), not in it, so the merge step treats it as an area, not a point
    vicinity: bool = False


class Incident(_Record):
    """One attack, clash, strike or explosion (or one continuing battle's current toll)."""

    event_type: EventType = "Battles"
    sub_event_type: SubEventType = "Armed clash"
    perpetrator: ActorCode = "UNKNOWN"
    targets: list[ActorCode] = Field(default_factory=list)
    location: Location | None = None
    occurred_on: date | None = None
    killed: int | None = None
    injured: int | None = None
    captured: int | None = None
    killed_by_actor: dict[ActorCode, int] = Field(default_factory=dict)
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
    #: the perpetrator is the rules' guess (the first side named that is no victim), not an
    #: attacker the report names; left off the wire when false
    perpetrator_inferred: bool = Field(default=False, exclude_if=lambda v: not v)


class Tally(_Record):
    """A running total over a period: never an incident, never an incident alert."""

    killed: int | None = None
    injured: int | None = None
    actor: ActorCode = "UNKNOWN"
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
    #: on the last revision of an incident a later report showed to be the same event as
    #: another: the id of the incident that lives on (this one is closed)
    merged_into: str | None = None
    #: why the report behind this revision was merged into the incident (or, on a closed
    #: twin's last revision, why it is the same event as ``merged_into``): the merge's own
    #: evidence ("same place (Al-Mayadin)", "1 day(s) apart"…); empty for a new incident,
    #: and then left off the wire (an incident no report joined reads as it always did)
    merge_reasons: list[str] = Field(default_factory=list, exclude_if=lambda v: not v)
    #: each report behind the incident as ``article id#position`` (the incident's index in
    #: that article's extraction): an article that tells several incidents leads with its own
    #: event and recalls others after it, so position 0 is what the report is about and a
    #: higher one a side mention (``marsad eval-merge`` scores a report by its lead)
    article_positions: list[str] = Field(default_factory=list, exclude_if=lambda v: not v)


class Alert(_Record):
    """An alert on the `alerts` topic; a later revision of the same id updates it."""

    id: str
    rule: str
    severity: Severity = "warning"
    incident_ids: list[str] = Field(default_factory=list)
    summary_ar: str = ""
    summary_en: str = ""
    revision: int = 1
    created_at: datetime
    # Marsad extensions: what the notifier needs to render without reaching back.
    kind: AlertKind = "incident"
    incident: StoredIncident | None = None
    window: dict[str, Any] | None = None
    changes: list[str] = Field(default_factory=list)
    #: the surviving alert's id, on the last revision of an alert whose incident was merged
    #: into another (its twin): Slack edits the message to say so, without a thread ping
    merged_into: str | None = None


def error_line(article_id: str | None, error: str) -> str:
    """The contract's line for a bad input line: ``{"id": …, "error": …}``."""
    return json.dumps({"id": article_id, "error": error}, ensure_ascii=False)
