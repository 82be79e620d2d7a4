"""Incident identity: decide whether a new report describes an incident we already hold.

Pure functions, no Faust, no I/O: the stream agent hands in the open incidents of one
governorate and one candidate, and gets back a decision it can log and a merged record.

Why gates plus a score instead of a learned model: analysts must be able to read *why*
two reports were merged (``MatchDecision.reasons``) and change the thresholds in
``config/rules.yaml`` (section ``merge``) without retraining anything.

A candidate merges into an open incident when every gate passes:

* date: both event dates (``occurred_on``, else the report's publication date) lie within
  ``max_days_apart`` days;
* event type: equal, or a pair listed in ``compatible_event_types`` (one outlet's "clashes"
  is another's "shelling" of the same attack);
* actors: same perpetrator, or either side ``UNKNOWN``, or the two reports tell the same
  fight from opposite sides (one's perpetrator is among the other's targets);
* place: same place name (Arabic or English, normalised), or coordinates within ``max_km``;
  when either report names no place, the text similarity of the evidence must reach
  ``min_similarity_without_place`` instead.

Among the incidents that pass, the highest score wins (place 1.0 for the same name, 0.7
for nearby; minus 0.1 per day apart; plus the evidence similarity). Ties go to the
incident seen first, so the choice is deterministic.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from marsad.records import Incident, StoredIncident

__all__ = [
    "Candidate",
    "MatchDecision",
    "MergeConfig",
    "MergeResult",
    "event_time",
    "find_match",
    "ids_near",
    "incident_id",
    "index_entry",
    "merge_into",
    "new_incident",
    "prune_index",
]


class MergeConfig(BaseModel):
    """The ``merge`` section of ``config/rules.yaml``."""

    model_config = ConfigDict(extra="forbid")

    max_days_apart: int = Field(default=2, ge=0)
    max_km: float = Field(default=30.0, gt=0)
    min_similarity_without_place: float = Field(default=0.35, ge=0, le=1)
    compatible_event_types: list[tuple[str, str]] = Field(
        default_factory=lambda: [("Battles", "Explosions/Remote violence")]
    )
    #: Incidents kept open per governorate, the oldest event dates dropped first. A cap,
    #: not an age: articles partitions are consumed at different speeds (and an archive
    #: replay runs far ahead of wall-clock time), so "N days behind the newest report"
    #: would close incidents whose late reports are still on their way.
    max_open: int = Field(default=300, ge=1)


class Candidate(BaseModel):
    """One extracted incident with the report it came from (the `incident-candidates` value)."""

    model_config = ConfigDict(extra="allow")

    article_id: str
    index: int = 0
    source: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    incident: Incident


class MatchDecision(BaseModel):
    incident_id: str | None
    score: float = 0.0
    reasons: list[str] = Field(default_factory=list)


class MergeResult(BaseModel):
    incident: StoredIncident
    #: True when toll or facts changed (``revision`` was incremented).
    revised: bool
    #: True when anything changed at all (a new source counts).
    changed: bool
    changes: list[str] = Field(default_factory=list)


_NON_WORD = re.compile(r"[^\w]+")
#: Before ``norm``: tatweel goes, and the quote and invisible marks it would delete become
#: word breaks. The extractor glues a detached clitic to its word ("لـ«قسد»" -> "لقسد") for
#: its lexicon; here that would make a word no other report shares, so "ل قسد" stays two.
_WORD_BREAKS = str.maketrans(
    {"\u0640": "", **{c: " " for c in '"“”„‟«»″‘’‚‛`\u200b\u200c\u200d\u200e\u200f\u061c\ufeff'}}
)
_STOP = frozenset({"في", "من", "على", "الى", "إلى", "عن", "مع", "the", "of", "in", "and", "و"})


@lru_cache(maxsize=4096)
def _norm(text: str) -> str:
    """The extractor's spelling (``stream.extract.normalize.norm``: letter forms, no
    diacritics, ASCII digits, lower case) with every non-word character a word break.

    Cached: every candidate is scored against the same open incidents' texts and names."""
    # Imported here: camel-tools' character tables take half a second to load, and loading
    # the rules (``stream.rules`` imports this module) should not wait for them.
    from stream.extract.normalize import norm

    return _NON_WORD.sub(" ", norm(text.translate(_WORD_BREAKS))).strip()


def _place_names(inc: Incident) -> set[str]:
    loc = inc.location
    if loc is None:
        return set()
    names = {_norm(loc.name_ar), _norm(loc.name_en)}
    # "البوكمال" vs "مدينة البوكمال" vs "Al-Bukamal" / "Albukamal": drop the article prefix
    names |= {n.removeprefix("ال").replace(" ", "") for n in names}
    names |= {n.removeprefix("al").replace(" ", "") for n in names}
    return {n for n in names if n}


def _tokens(text: str) -> set[str]:
    out = set()
    for tok in _norm(text).split():
        if tok in _STOP or len(tok) < 2:
            continue
        # light stemming: leading wa-/al- carry no meaning for overlap
        for prefix in ("وال", "ال", "و"):
            if tok.startswith(prefix) and len(tok) - len(prefix) >= 3:
                tok = tok[len(prefix) :]
                break
        out.add(tok)
    return out


def similarity(a: str, b: str) -> float:
    """Jaccard overlap of normalised word sets: crude, but explainable and language-blind."""
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def _km(a: Incident, b: Incident) -> float | None:
    la, lb = a.location, b.location
    if la is None or lb is None or None in (la.lat, la.lon, lb.lat, lb.lon):
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (la.lat, la.lon, lb.lat, lb.lon))  # type: ignore[arg-type]
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def event_day(inc: Incident, published_at: datetime | None) -> date | None:
    if inc.occurred_on is not None:
        return inc.occurred_on
    return published_at.date() if published_at is not None else None


def event_time(inc: StoredIncident) -> datetime:
    """Event time used by the window rules: ``occurred_on`` at noon UTC, else first report.

    Noon, not midnight, so a date lands in the middle of its day-sized windows whatever
    the reader's time zone; an incident keeps its event time across revisions, so a
    rising toll is counted in the same windows as the first report.
    """
    if inc.occurred_on is not None:
        return datetime.combine(inc.occurred_on, time(12, 0), tzinfo=UTC)
    if inc.first_seen_at is not None:
        ts = inc.first_seen_at
        return ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    return datetime.now(UTC)


def _actors_compatible(a: Incident, b: Incident) -> str | None:
    pa, pb = a.perpetrator, b.perpetrator
    if pa == pb:
        return f"same perpetrator {pa}"
    if "UNKNOWN" in (pa, pb):
        return "perpetrator unknown on one side"
    if pa in b.targets or pb in a.targets:
        return f"same fight told from both sides ({pa} / {pb})"
    return None


def _event_types_compatible(a: Incident, b: Incident, cfg: MergeConfig) -> bool:
    if a.event_type == b.event_type:
        return True
    pair = {a.event_type, b.event_type}
    return any(pair == {x, y} for x, y in cfg.compatible_event_types)


def score_match(held: StoredIncident, cand: Candidate, cfg: MergeConfig) -> MatchDecision | None:
    """Return the decision to merge ``cand`` into ``held``, or ``None`` with no match."""
    inc = cand.incident
    reasons: list[str] = []
    held_day = event_day(held, held.first_seen_at)
    cand_day = event_day(inc, cand.published_at)
    days = 0
    if held_day is not None and cand_day is not None:
        days = abs((held_day - cand_day).days)
        if days > cfg.max_days_apart:
            return None
        reasons.append(f"{days} day(s) apart")
    if not _event_types_compatible(held, inc, cfg):
        return None
    actors = _actors_compatible(held, inc)
    if actors is None:
        return None
    reasons.append(actors)
    sim = similarity(held.evidence, inc.evidence)
    names_a, names_b = _place_names(held), _place_names(inc)
    place = 0.0
    if names_a and names_b and names_a & names_b:
        place = 1.0
        reasons.append("same place")
    else:
        km = _km(held, inc)
        if km is not None and km <= cfg.max_km:
            place = 0.7
            reasons.append(f"{km:.0f} km apart")
        elif names_a and names_b:
            return None  # two different named places, not near each other (or unknown coords)
        elif sim < cfg.min_similarity_without_place:
            return None
        else:
            reasons.append("no place on one side; texts alike")
    reasons.append(f"text similarity {sim:.2f}")
    score = place - 0.1 * days + sim
    return MatchDecision(incident_id=held.id, score=round(score, 4), reasons=reasons)


def find_match(
    open_incidents: list[StoredIncident], cand: Candidate, cfg: MergeConfig
) -> MatchDecision:
    """Best open incident for ``cand``; ``incident_id=None`` means "a new incident"."""
    best: MatchDecision | None = None
    for held in open_incidents:
        if cand.article_id in held.article_ids:
            # Same article processed again (redelivery, or an update re-published under
            # the same id): it can only revise what it already contributed to.
            decision = score_match(held, cand, cfg)
            if decision is not None:
                decision.reasons.insert(0, "article already merged here")
                decision.score += 10
        else:
            decision = score_match(held, cand, cfg)
        if decision is not None and (best is None or decision.score > best.score):
            best = decision
    return best or MatchDecision(incident_id=None, reasons=["no open incident matches"])


def incident_id(cand: Candidate) -> str:
    """Stable id: the first report's article id and position, hashed (same on every worker)."""
    digest = hashlib.sha1(f"{cand.article_id}#{cand.index}".encode()).hexdigest()
    return f"inc-{digest[:16]}"


def new_incident(cand: Candidate, now: datetime) -> StoredIncident:
    data: dict[str, Any] = cand.incident.model_dump()
    first_seen = cand.published_at or now
    return StoredIncident(
        **data,
        id=incident_id(cand),
        article_ids=[cand.article_id],
        sources=[cand.source] if cand.source else [],
        urls=[cand.url] if cand.url else [],
        revision=1,
        first_seen_at=first_seen,
        updated_at=now,
    )


def _higher(new: int | None, old: int | None) -> bool:
    return new is not None and (old is None or new > old)


def merge_into(held: StoredIncident, cand: Candidate, now: datetime) -> MergeResult:
    """Fold one more report into ``held``.

    A higher toll revises (and brings its own breakdown, qualifier and evidence); a lower
    or equal toll only adds the source: tolls never go down. Facts one report left
    unknown (place, coordinates, date, perpetrator, targets) are filled from another and
    count as a revision too.
    """
    inc = cand.incident
    merged = held.model_copy(deep=True)
    changes: list[str] = []
    for field in ("killed", "injured", "captured"):
        old, new = getattr(held, field), getattr(inc, field)
        if _higher(new, old):
            setattr(merged, field, new)
            changes.append(f"{field} {old if old is not None else '?'}→{new}")
            if field == "killed":
                merged.killed_by_actor = dict(inc.killed_by_actor)
                merged.killed_qualifier = inc.killed_qualifier
                merged.evidence = inc.evidence or held.evidence
                merged.evidence_span = inc.evidence_span
                merged.confidence = max(held.confidence, inc.confidence)
                if inc.summary_en:
                    merged.summary_en = inc.summary_en
            elif field == "injured":
                merged.injured_qualifier = inc.injured_qualifier
    if held.perpetrator == "UNKNOWN" and inc.perpetrator != "UNKNOWN":
        merged.perpetrator = inc.perpetrator
        changes.append(f"perpetrator → {inc.perpetrator}")
    new_targets = [t for t in inc.targets if t not in held.targets and t != merged.perpetrator]
    if new_targets:
        merged.targets = [*held.targets, *new_targets]
        changes.append(f"targets + {', '.join(new_targets)}")
    if held.location is None and inc.location is not None:
        merged.location = inc.location
        changes.append(f"place → {inc.location.name_en}")
    elif (
        held.location is not None
        and inc.location is not None
        and held.location.lat is None
        and inc.location.lat is not None
    ):
        merged.location = held.location.model_copy(
            update={"lat": inc.location.lat, "lon": inc.location.lon}
        )
        changes.append("coordinates added")
    if held.occurred_on is None and inc.occurred_on is not None:
        merged.occurred_on = inc.occurred_on
        changes.append(f"date → {inc.occurred_on.isoformat()}")
    if held.summary_en is None and inc.summary_en:
        merged.summary_en = inc.summary_en

    added_source = False
    if cand.article_id not in held.article_ids:
        merged.article_ids = [*held.article_ids, cand.article_id]
        added_source = True
    if cand.source and cand.source not in held.sources:
        merged.sources = [*held.sources, cand.source]
        added_source = True
    if cand.url and cand.url not in held.urls:
        merged.urls = [*held.urls, cand.url]
    revised = bool(changes)
    changed = revised or added_source
    if revised:
        merged.revision = held.revision + 1
    if changed:
        merged.updated_at = now
    return MergeResult(incident=merged, revised=revised, changed=changed, changes=changes)


#: One entry of a governorate's index of open incidents: ``(incident id, event day ISO)``.
IndexEntry = tuple[str, str | None]


def index_entry(inc: StoredIncident) -> IndexEntry:
    day = event_day(inc, inc.first_seen_at)
    return (inc.id, day.isoformat() if day else None)


def ids_near(index: list[IndexEntry], cand: Candidate, cfg: MergeConfig) -> list[str]:
    """Ids worth scoring for ``cand``: those whose event day could pass the date gate
    (read before loading any incident, so a long index stays cheap)."""
    day = event_day(cand.incident, cand.published_at)
    out = []
    for inc_id, iso in index:
        if (
            day is None
            or iso is None
            or abs((date.fromisoformat(iso) - day).days) <= cfg.max_days_apart
        ):
            out.append(inc_id)
    return out


def prune_index(index: list[IndexEntry], cfg: MergeConfig) -> tuple[list[IndexEntry], list[str]]:
    """Keep the ``max_open`` entries with the latest event days; return (kept, dropped ids).
    Entries without a date sort as oldest. Stable, so equal days keep arrival order."""
    if len(index) <= cfg.max_open:
        return index, []
    ordered = sorted(index, key=lambda e: e[1] or "")
    cut = len(ordered) - cfg.max_open
    return ordered[cut:], [e[0] for e in ordered[:cut]]
