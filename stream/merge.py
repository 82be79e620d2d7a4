"""Incident identity: which reports tell one event, and what incident a group of them is.

Pure functions, no Faust, no I/O. Identity is a function of the *set* of reports, never of
their order (issue #12 item 3): :func:`same_event` decides between two reports, an incident
is a connected group of reports so linked (single link: order-free), and
:func:`group_incident` builds the incident from its reports, named by the first
(:func:`report_key`: publication time, article id, position) and tolled by the highest.
When a new report links two open incidents they are one (``stream.merge_step``).

Why gates plus a score instead of a learned model: analysts must be able to read *why*
two reports were merged (``MatchDecision.reasons``) and change the thresholds in
``config/rules.yaml`` (section ``merge``) without retraining anything.

Two reports tell one event when every gate passes (item 9: a merge needs evidence, and
when in doubt there are two incidents):

* date: event days (``occurred_on``, else the publication day) at most
  ``max_days_apart_dated`` apart when both reports give the date, ``max_days_apart`` else;
* actors: not contradicting (same perpetrator, ``UNKNOWN`` on one side, a perpetrator the
  extractor only guessed, ``Incident.perpetrator_inferred``, two ``allied_sides``, or one
  fight told from both sides);
* place (:func:`place_relation`): one place (same name, or points ``same_place_km`` apart),
  one inside the other (a city within ``city_km``, a district or desert within ``area_km``,
  a governorate-level place such as "ريف حماة الشرقي" by its governorate, never by the
  distance to its centre; the country around a town, ``Location.vicinity`` — "بادية
  الرصافة", "جنوب تدمر", "على طريق السخنة" — within ``vicinity_km``), or a
  governorate-level place and one on the other side of its governorate's line, within
  ``border_km`` of it (:mod:`marsad.geography`); two different points (an ambush 7 km away)
  never merge. A report without a place needs ``min_similarity_without_place`` word overlap;
* evidence at least ``min_evidence``: place (2 a shared point, 1 a shared area or
  containment, 0.5 a border), same day 0.5, same known perpetrator 1 (0.5 when one of them
  is guessed; ``UNKNOWN`` adds nothing), same sub-event 0.5 (an event type that differs
  lowers it, never splits alone), the same toll 1 (a later report's toll under an earlier
  one's divided by ``toll_ratio``: minus ``toll_mismatch_weight``), both naming what was
  attacked (``objects``: a bus, a checkpoint, a church) ``object_weight``, word overlap
  times ``similarity_weight``; of it, at least ``min_corroboration`` that is not place and
  day.

:func:`linked` adds one rule: an article that reports two incidents tells two events, so
only the one of them that matches best links.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from marsad.geography import km_between, km_outside
from marsad.records import ActorCode, Incident, Location, StoredIncident

__all__ = [
    "Candidate",
    "Held",
    "MatchDecision",
    "MergeConfig",
    "MergeResult",
    "as_held",
    "event_time",
    "find_match",
    "group_incident",
    "ids_near",
    "incident_id",
    "index_entry",
    "linked",
    "links",
    "merge_into",
    "new_incident",
    "place_relation",
    "prune_index",
    "report_key",
    "same_event",
]


class MergeConfig(BaseModel):
    """The ``merge`` section of ``config/rules.yaml``."""

    model_config = ConfigDict(extra="forbid")

    #: Event days further apart never merge (a report without a date: its publication day).
    max_days_apart: int = Field(default=2, ge=0)
    #: ... and when both reports give the event's date.
    max_days_apart_dated: int = Field(default=1, ge=0)
    #: An area (district, desert, region) contains the places this near its centre.
    area_km: float = Field(default=60.0, gt=0)
    #: A city (or subdistrict) contains the places this near its centre.
    city_km: float = Field(default=12.0, gt=0)
    #: The country around a town ("بادية الرصافة", "جنوب تدمر") holds places this near it.
    vicinity_km: float = Field(default=60.0, gt=0)
    #: Two differently named points this near are one place (a village and its outskirts).
    same_place_km: float = Field(default=3.0, ge=0)
    #: A place is a border event with a governorate-level place next door ("بادية حماة
    #: الشرقية") only this near that governorate's outline (an area: this plus ``area_km``).
    border_km: float = Field(default=45.0, ge=0)
    min_similarity_without_place: float = Field(default=0.35, ge=0, le=1)
    #: The evidence two reports need to be one event (see ``same_event``).
    min_evidence: float = Field(default=2.25, ge=0)
    #: The part of it that is not place and day (actors, types, toll, words).
    min_corroboration: float = Field(default=0.5, ge=0)
    #: ... when the places only meet across a governorate line: two provinces side by side
    #: hold many same-day events of one actor, so the actor alone does not make one event.
    border_corroboration: float = Field(default=1.5, ge=0)
    #: A later report whose toll is an earlier one's divided by more than this tells against
    #: one event (30 dead, then "قتيلان"; a toll rises as the dead are counted, it does not
    #: fall to a third): it takes ``toll_mismatch_weight`` off the evidence.
    toll_ratio: float = Field(default=3.0, gt=1)
    toll_mismatch_weight: float = Field(default=1.0, ge=0)
    #: What word overlap (0..1) adds to the evidence.
    similarity_weight: float = Field(default=3.0, ge=0)
    #: Taken off the evidence when both reports break their dead down by side and no side
    #: is in both ("رجلان من أنصار النظام" / "سبعة مدنيين").
    victims_mismatch_weight: float = Field(default=0.5, ge=0)
    #: What was attacked, when both reports name it ("حافلة مبيت", "حاجز", "كنيسة"): an
    #: event's own detail, which word overlap drowns among the shared common words.
    object_weight: float = Field(default=0.5, ge=0)
    objects: list[str] = Field(default_factory=list)
    #: How far (days) an index entry's day may be from a report's and still be read: a group's
    #: reports can be days apart, and every report that might pair with it must be compared.
    index_slack_days: int = Field(default=3, ge=0)
    #: Sides that fight together, so outlets credit one attack to either (a coalition of
    #: factions or its member, Russian or regime aircraft): no contradiction between them.
    allied_sides: list[tuple[ActorCode, ActorCode]] = Field(default_factory=list)
    compatible_event_types: list[tuple[str, str]] = Field(
        default_factory=lambda: [("Battles", "Explosions/Remote violence")]
    )
    #: Event types that differ only in whether the victims fought back ("هجوم على القرية" /
    #: "اشتباكات مع المهاجمين"): no counter-evidence when both reports name who attacked
    #: (the sides then say whether it is one event); with the attacker unknown on a side, the
    #: type is what tells two attacks in one place apart.
    compatible_when_named: list[tuple[str, str]] = Field(default_factory=list)
    #: Incidents kept open per governorate, the oldest event dates dropped first. A cap,
    #: not an age: articles partitions are consumed at different speeds (and an archive
    #: replay runs far ahead of wall-clock time), so "N days behind the newest report"
    #: would close incidents whose late reports are still on their way.
    max_open: int = Field(default=2000, ge=1)


class Candidate(BaseModel):
    """One extracted incident with the report it came from (the `incident-candidates` value)."""

    model_config = ConfigDict(extra="allow")

    article_id: str
    index: int = 0
    source: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    title: str | None = None
    #: The article's other current incidents, by position (``index`` -> incident): a report
    #: links to another only through the one of its article's incidents that matches it best.
    siblings: dict[int, Incident] = Field(default_factory=dict)
    incident: Incident
    #: The country a report without a place is told in (its article's other incidents, or
    #: the country it names: "القوات العراقية"), so it still meets that country's reports
    #: (``stream.merge_step.candidate_key``); ``None`` when the incident has a place.
    country: str | None = None


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


def tokens(text: str) -> set[str]:
    """A text's words as the merge step compares them: normalised, without stop words,
    without a leading wa-/al- (``scripts/build_word_weights.py`` counts these)."""
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


@lru_cache(maxsize=64)
def _object_words(objects: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_norm(o) for o in objects)


@lru_cache(maxsize=4096)
def _objects_in(text: str, objects: tuple[str, ...]) -> frozenset[str]:
    from stream.extract.lexicon import prefix_forms

    wanted = _object_words(objects)
    found = set()
    for tok in _norm(text).split():
        for form in prefix_forms(tok):
            base = form.removeprefix("ال")
            if base in wanted:
                found.add(base)
                break
    return frozenset(found)


def _objects(text: str, cfg: MergeConfig) -> frozenset[str]:
    """The attacked objects of ``cfg.objects`` a report's evidence names (any clitic)."""
    return _objects_in(text, tuple(cfg.objects)) if cfg.objects else frozenset()


#: How much each word says about which event a report tells (``scripts/build_word_weights.py``).
WORD_WEIGHTS = Path(__file__).resolve().parent / "data" / "word_weights.json"


@lru_cache(maxsize=1)
def _weights() -> tuple[dict[str, float], float]:
    data = json.loads(WORD_WEIGHTS.read_text(encoding="utf-8"))
    return data["weights"], float(data["rare"])


def similarity(a: str, b: str) -> float:
    """Cosine of the two texts' word sets, each word weighted by its inverse document
    frequency over many conflict reports: "قتل", "قوات" weigh little, an event's own words
    ("ورشة", "الكمأة", a village) much. 0..1, explainable, and blind to word order."""
    ta, tb = tokens(a), tokens(b)
    if not ta or not tb:
        return 0.0
    weights, rare = _weights()
    w2 = {t: weights.get(t, rare) ** 2 for t in ta | tb}
    norm_a = math.sqrt(sum(w2[t] for t in ta))
    norm_b = math.sqrt(sum(w2[t] for t in tb))
    if not norm_a or not norm_b:
        return 0.0
    return round(min(1.0, sum(w2[t] for t in ta & tb) / (norm_a * norm_b)), 6)


def _km(a: Incident, b: Incident) -> float | None:
    la, lb = a.location, b.location
    if la is None or lb is None or None in (la.lat, la.lon, lb.lat, lb.lon):
        return None
    return km_between(la.lat, la.lon, lb.lat, lb.lon)  # type: ignore[arg-type]


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


# -- places: precision and containment ---------------------------------------------------------

#: Neighbouring governorates (ISO 3166-2): a governorate-level place ("ريف حمص الشرقي") and
#: a place told in the governorate next to it ("بادية دير الزور") may be one border event.
_NEIGHBOURS: dict[str, frozenset[str]] = {
    k: frozenset(v)
    for k, v in {
        "SY-DI": {"SY-RD"},
        "SY-RD": {"SY-DI", "SY-QU", "SY-DR", "SY-SU", "SY-HI"},
        "SY-DR": {"SY-RD", "SY-QU", "SY-SU"},
        "SY-SU": {"SY-RD", "SY-DR", "SY-HI"},
        "SY-QU": {"SY-RD", "SY-DR"},
        "SY-HI": {"SY-RD", "SY-SU", "SY-HM", "SY-TA", "SY-RA", "SY-DY"},
        "SY-HM": {"SY-HI", "SY-TA", "SY-LA", "SY-ID", "SY-HL", "SY-RA"},
        "SY-TA": {"SY-HI", "SY-HM", "SY-LA"},
        "SY-LA": {"SY-TA", "SY-HM", "SY-ID"},
        "SY-ID": {"SY-LA", "SY-HM", "SY-HL"},
        "SY-HL": {"SY-ID", "SY-HM", "SY-RA"},
        "SY-RA": {"SY-HL", "SY-HM", "SY-HI", "SY-DY", "SY-HA"},
        "SY-DY": {"SY-RA", "SY-HI", "SY-HA"},
        "SY-HA": {"SY-RA", "SY-DY"},
        "IQ-AN": {"IQ-NI", "IQ-SD", "IQ-BG", "IQ-BB", "IQ-KA", "IQ-NA"},
        "IQ-NI": {"IQ-AN", "IQ-SD", "IQ-KI", "IQ-AR", "IQ-DA"},
        "IQ-SD": {"IQ-AN", "IQ-NI", "IQ-KI", "IQ-SU", "IQ-DI", "IQ-BG"},
        "IQ-KI": {"IQ-NI", "IQ-SD", "IQ-AR", "IQ-SU"},
        "IQ-DI": {"IQ-SD", "IQ-SU", "IQ-BG", "IQ-WA"},
        "IQ-BG": {"IQ-AN", "IQ-SD", "IQ-DI", "IQ-BB", "IQ-WA"},
    }.items()
}
#: The gazetteer's kinds that name an area, not a point: compared by containment.
_AREA_RANK = 3
_GOVERNORATE_RANK = 6


@lru_cache(maxsize=1)
def _kinds() -> dict[str, int]:
    """Place name (English, as the extractor writes ``name_en``) -> the rank of its kind
    (``stream.extract.places.KIND_RANK``: 0 a village … 6 a governorate)."""
    import yaml

    from marsad.vocabulary import DATA_DIR as PLACES_DIR
    from stream.extract.places import KIND_RANK

    out: dict[str, int] = {}
    for path in sorted(PLACES_DIR.glob("places*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")).get("places") or []:
            out.setdefault(str(entry["name_en"]), KIND_RANK.get(str(entry.get("kind")), 3))
    return out


def place_rank(loc: Location) -> int:
    """How wide a place is: 0-2 a point (village, town, city, subdistrict), 3-5 an area
    (district, desert, region), 6 a governorate. A place the gazetteer lacks is a point."""
    if loc.name_en.endswith(" Governorate"):
        return _GOVERNORATE_RANK
    rank = _kinds().get(loc.name_en, 0)
    # "جنوب تدمر", "بادية الرصافة": the country around a town is an area around its centre
    return max(rank, _AREA_RANK) if loc.vicinity else rank


PlaceRelation = Literal["same", "same area", "contained", "border", "unplaced", "different"]


def place_relation(a: Incident, b: Incident, cfg: MergeConfig) -> tuple[PlaceRelation, str]:
    """How two reports' places relate: one place, one inside the other, both sides of a
    governorate line, one report without a place, or two different places."""
    la, lb = a.location, b.location
    if la is None or lb is None:
        return "unplaced", "no place on one side"
    ra, rb = place_rank(la), place_rank(lb)
    km = _km(a, b)
    if _place_names(a) & _place_names(b):
        return ("same", "same place") if max(ra, rb) < _AREA_RANK else ("same area", "same area")
    wide, narrow = (la, lb) if ra >= rb else (lb, la)
    if max(ra, rb) >= _GOVERNORATE_RANK:
        if wide.admin1 and wide.admin1 == narrow.admin1:
            return "contained", f"{narrow.name_en} in {wide.name_en}"
        if wide.admin1 and narrow.admin1 in _NEIGHBOURS.get(wide.admin1, ()):
            reach = _reach(narrow, wide.admin1, cfg)
            if reach is not None:
                return "different", f"{narrow.name_en} {reach:.0f} km from {wide.name_en}"
            return "border", f"{wide.name_en} borders {narrow.name_en}'s governorate"
        return "different", "different governorates"
    if max(ra, rb) >= 1:
        # a city holds its quarters and outskirts; an area (district, desert) its places
        radius = cfg.area_km if max(ra, rb) >= _AREA_RANK else cfg.city_km
        if wide.vicinity and _kinds().get(wide.name_en, 0) < _AREA_RANK:
            radius = cfg.vicinity_km  # "جنوب تدمر": near the town, not a whole district
        if km is not None and km <= radius:
            if wide.admin1 and narrow.admin1 and wide.admin1 != narrow.admin1:
                # "جنوب القنيطرة" reaching Al-Kiswah: around a town, but across a line
                return "border", f"{narrow.name_en} {km:.0f} km from {wide.name_en}, across a line"
            return "contained", f"{narrow.name_en} {km:.0f} km from {wide.name_en}"
        if km is None and max(ra, rb) >= _AREA_RANK and wide.admin1 == narrow.admin1:
            return "contained", f"{narrow.name_en} in {wide.admin1}"
        return "different", "outside the area"
    if km is not None and km <= cfg.same_place_km:
        return "same", f"{km:.1f} km apart"
    return "different", "two different places" + (f" {km:.0f} km apart" if km is not None else "")


def _reach(place: Location, admin1: str, cfg: MergeConfig) -> float | None:
    """How far ``place`` lies from governorate ``admin1`` when that is too far for one
    border event, else ``None``. A governorate-level place, or one without coordinates or
    outline, is taken as reaching the line: an outlet's "بادية حماة" may spill into Homs,
    but not 50 km into it (the T3 station is no border event of east Hama's desert)."""
    if place.lat is None or place.lon is None or place_rank(place) >= _GOVERNORATE_RANK:
        return None
    km = km_outside(place.lat, place.lon, admin1)
    allowed = cfg.border_km + (cfg.area_km if place_rank(place) >= _AREA_RANK else 0.0)
    return km if km is not None and km > allowed else None


# -- the pairwise decision ---------------------------------------------------------------------


def _day(cand: Candidate) -> tuple[date | None, bool]:
    """The report's event day and whether the report gave it (else its publication day)."""
    inc = cand.incident
    if inc.occurred_on is not None:
        return inc.occurred_on, True
    return (cand.published_at.date() if cand.published_at else None), False


def _actors(a: Incident, b: Incident, cfg: MergeConfig) -> tuple[float, str] | None:
    """Evidence from the sides, or ``None`` when they contradict each other."""
    pa, pb = a.perpetrator, b.perpetrator
    if pa == pb:
        if pa == "UNKNOWN":
            return 0.0, "perpetrator unknown"
        if a.perpetrator_inferred or b.perpetrator_inferred:
            # two guesses agreeing (the state that answered an attack, named in both): half
            return 0.5, f"same perpetrator {pa}, guessed on one side"
        return 1.0, f"same perpetrator {pa}"
    if "UNKNOWN" in (pa, pb):
        return 0.0, "perpetrator unknown on one side"
    if a.perpetrator_inferred or b.perpetrator_inferred:
        # the first side named that is no victim: a guess that half the time names the
        # victims' own side or the agency telling it, no contradiction
        return 0.0, "perpetrator guessed on one side"
    if pa in b.targets or pb in a.targets:
        return 0.5, f"same fight told from both sides ({pa} / {pb})"
    if _listed_pair(pa, pb, cfg.allied_sides):
        # "جيش الفتح" and "جبهة النصرة", Russian or regime jets: one attack credited to
        # either of two sides fighting together is no contradiction (and no evidence)
        return 0.0, f"allied sides ({pa} / {pb})"
    return None


_PLACE_WEIGHT: dict[str, float] = {
    "same": 2.0,
    "same area": 1.0,
    "contained": 1.0,
    "border": 0.5,
    "unplaced": 0.0,
}


def _sibling(cand: Candidate, index: int, inc: Incident) -> Candidate:
    return cand.model_copy(update={"index": index, "incident": inc, "siblings": {}})


def linked(a: Candidate, b: Candidate, cfg: MergeConfig) -> MatchDecision | None:
    """:func:`same_event`, when neither report's article has another incident that tells
    ``b``'s (or ``a``'s) event better: an article that reports two incidents tells two
    events, so only its best match links (ties: the earlier position). Symmetric, and a
    function of the two messages alone (each carries its siblings), hence order-free."""
    d = same_event(a, b, cfg)
    if d is None:
        return None
    for this, other in ((a, b), (b, a)):
        for index, inc in this.siblings.items():
            rival = same_event(_sibling(this, index, inc), other, cfg)
            if rival is not None and (rival.score, -index) > (d.score, -this.index):
                return None
    return d


def same_event(a: Candidate, b: Candidate, cfg: MergeConfig) -> MatchDecision | None:
    """Whether two reports tell one event (symmetric: ``same_event(a, b)`` and
    ``same_event(b, a)`` agree), with the evidence; ``None`` when they do not.

    Gates first (any failing one keeps the two apart): event days within
    ``max_days_apart_dated`` when both reports give the date, else ``max_days_apart``; sides
    that do not contradict; places that are one place, one inside the other or across a
    governorate line; without a place on one side, wording at least
    ``min_similarity_without_place`` alike. Then the evidence must add up to ``min_evidence``:
    the place (a shared point counts most, containment little), the same day, the same
    known perpetrator, the same event or sub-event type, equal tolls, overlapping words.
    Event types that differ only lower the score; an unknown perpetrator adds nothing."""
    ia, ib = a.incident, b.incident
    reasons: list[str] = []
    evidence = 0.0
    days_apart: int | None = None
    (da, ga), (db, gb) = _day(a), _day(b)
    if da is not None and db is not None:
        days = abs((da - db).days)
        if days > (cfg.max_days_apart_dated if ga and gb else cfg.max_days_apart):
            return None
        days_apart = days
        if days == 0:
            evidence += 0.5
        reasons.append(f"{days} day(s) apart")
    actors = _actors(ia, ib, cfg)
    if actors is None:
        return None
    evidence += actors[0]
    reasons.append(actors[1])
    relation, why = place_relation(ia, ib, cfg)
    if relation == "different":
        return None
    evidence += _PLACE_WEIGHT[relation]
    reasons.append(why)
    sim = max(similarity(ia.evidence, ib.evidence), similarity(a.title or "", b.title or ""))
    if relation == "unplaced" and sim < cfg.min_similarity_without_place:
        return None
    if ia.sub_event_type == ib.sub_event_type:
        evidence += 0.5
        reasons.append(f"both {ia.sub_event_type}")
    elif ia.event_type == ib.event_type:
        evidence += 0.25
    elif not _event_types_compatible(ia, ib, cfg):
        evidence -= 0.5
        reasons.append(f"{ia.event_type} / {ib.event_type}")
    if ia.killed and ia.killed == ib.killed:
        evidence += 1.0
        reasons.append(f"same toll {ia.killed}")
    elif _tolls_clash(a, b, cfg):
        # 30 dead, then 2: not one event's toll told again
        evidence -= cfg.toll_mismatch_weight
        reasons.append(f"tolls {ia.killed} / {ib.killed}")
    dead_a, dead_b = set(ia.killed_by_actor), set(ib.killed_by_actor)
    if dead_a and dead_b and not dead_a & dead_b:
        # two loyalists killed by bombs in their cars, then seven civilians at their funeral:
        # the dead of one report are none of the other's
        evidence -= cfg.victims_mismatch_weight
        reasons.append(
            f"dead of other sides ({'/'.join(sorted(dead_a))} / {'/'.join(sorted(dead_b))})"
        )
    shared = _objects(ia.evidence, cfg) & _objects(ib.evidence, cfg)
    if shared:
        evidence += cfg.object_weight
        reasons.append(f"both name {', '.join(sorted(shared))}")
    evidence += cfg.similarity_weight * sim
    reasons.append(f"text similarity {sim:.2f}")
    # Place and day alone are not an event: two attacks in one town on one day are common.
    corroboration = evidence - _PLACE_WEIGHT[relation] - (0.5 if days_apart == 0 else 0.0)
    needed = cfg.border_corroboration if relation == "border" else cfg.min_corroboration
    if evidence < cfg.min_evidence or corroboration < max(needed, cfg.min_corroboration):
        return None
    return MatchDecision(incident_id=None, score=round(evidence, 4), reasons=reasons)


def _tolls_clash(a: Candidate, b: Candidate, cfg: MergeConfig) -> bool:
    """The later report (by publication time) gives a toll less than an earlier one's
    divided by ``toll_ratio``: one event's toll rises as the dead are counted (4 at noon, 26
    by the evening), it does not fall to a third, so 30 dead then 2 are two events."""
    early, late = (a, b) if report_key(a) <= report_key(b) else (b, a)
    first, then = early.incident.killed, late.incident.killed
    return bool(first and then and first > cfg.toll_ratio * then)


def _event_types_compatible(a: Incident, b: Incident, cfg: MergeConfig) -> bool:
    if a.event_type == b.event_type:
        return True
    if _listed_pair(a.event_type, b.event_type, cfg.compatible_event_types):
        return True
    named = "UNKNOWN" not in (a.perpetrator, b.perpetrator)
    return named and _listed_pair(a.event_type, b.event_type, cfg.compatible_when_named)


def _listed_pair(x: str, y: str, pairs: Sequence[tuple[str, str]]) -> bool:
    """Whether ``{x, y}`` is one of ``pairs``, in either order."""
    return any({x, y} == {p, q} for p, q in pairs)


# -- a group of reports is one incident --------------------------------------------------------


def report_key(cand: Candidate) -> str:
    """Orders a group's reports whatever order they arrived in: publication time (UTC),
    then article id and position. The first report names the incident."""
    ts = cand.published_at
    when = "~" if ts is None else (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).astimezone(UTC)
    return (
        f"{when if isinstance(when, str) else when.isoformat()}|{cand.article_id}|{cand.index:04d}"
    )


def as_report(inc: StoredIncident) -> Candidate:
    """An open incident stored before its reports were kept, as a report of its own."""
    return Candidate(
        article_id=inc.article_ids[0] if inc.article_ids else inc.id,
        index=0,
        source=inc.sources[0] if inc.sources else None,
        url=inc.urls[0] if inc.urls else None,
        published_at=inc.first_seen_at,
        incident=Incident.model_validate(inc.model_dump(include=set(Incident.model_fields))),
    )


def position(cand: Candidate) -> str:
    """``article id#index``: which of its article's incidents a report is."""
    return f"{cand.article_id}#{cand.index}"


def incident_id(cand: Candidate) -> str:
    """Stable id: the first report's :func:`position`, hashed (same on every worker)."""
    digest = hashlib.sha1(position(cand).encode()).hexdigest()
    return f"inc-{digest[:16]}"


def _unique(values: Iterable[str | None]) -> list[str]:
    out: list[str] = []
    for v in values:
        if v and v not in out:
            out.append(v)
    return out


def _toll(c: Candidate) -> int:
    return c.incident.killed if c.incident.killed is not None else -1


def group_incident(
    reports: Sequence[Candidate],
    now: datetime,
    prev: StoredIncident | None = None,
    extra_article_ids: Iterable[str] = (),
) -> MergeResult:
    """The incident a group of reports is, the same whatever order they came in.

    Named by the first report (:func:`report_key`); the highest toll and the report that
    gave it (its breakdown, qualifier, evidence, types; ties: the earlier report) set the
    toll, and what that report left unknown comes from the others in report order. ``prev``
    is the incident as last published under this id: its revision goes up when the toll or
    a fact changed (``changes``), and a new source alone changes without revising."""
    rs = sorted(reports, key=report_key)
    first = rs[0]
    base = max(rs, key=_toll)
    inc = base.incident
    data: dict[str, Any] = inc.model_dump()
    for field in ("injured", "captured"):
        values = [getattr(c.incident, field) for c in rs if getattr(c.incident, field) is not None]
        data[field] = max(values) if values else None
    injured_from = next((c for c in rs if c.incident.injured == data["injured"]), None)
    data["injured_qualifier"] = injured_from.incident.injured_qualifier if injured_from else None
    if inc.perpetrator == "UNKNOWN":
        data["perpetrator"] = next(
            (c.incident.perpetrator for c in rs if c.incident.perpetrator != "UNKNOWN"), "UNKNOWN"
        )
    data["targets"] = [
        t for t in _unique(t for c in rs for t in c.incident.targets) if t != data["perpetrator"]
    ]
    located = [c.incident.location for c in rs if c.incident.location is not None]
    if located:
        loc = min(located, key=lambda loc: (place_rank(loc), loc.lat is None))
        if loc.lat is None:
            names = {_norm(loc.name_ar), _norm(loc.name_en)}
            same = [
                x
                for x in located
                if x.lat is not None and {_norm(x.name_ar), _norm(x.name_en)} & names
            ]
            if same:
                loc = loc.model_copy(update={"lat": same[0].lat, "lon": same[0].lon})
        data["location"] = loc
    if data["occurred_on"] is None:
        data["occurred_on"] = next(
            (c.incident.occurred_on for c in rs if c.incident.occurred_on), None
        )
    if not data.get("summary_en"):
        data["summary_en"] = next(
            (c.incident.summary_en for c in rs if c.incident.summary_en), None
        )
    data["confidence"] = max(c.incident.confidence for c in rs if _toll(c) == _toll(base))
    published = [c.published_at for c in rs if c.published_at is not None]
    merged = StoredIncident(
        **{**data, "location": data["location"]},
        id=incident_id(first),
        article_ids=_unique([*(c.article_id for c in rs), *extra_article_ids]),
        article_positions=_unique(position(c) for c in rs),
        sources=_unique(c.source for c in rs),
        urls=_unique(c.url for c in rs),
        revision=1,
        first_seen_at=min(published) if published else (prev.first_seen_at if prev else now),
        updated_at=now,
    )
    if prev is None:
        return MergeResult(incident=merged, revised=False, changed=True, changes=[])
    changes = changes_between(prev, merged)
    added = set(merged.article_ids) - set(prev.article_ids) or set(merged.sources) - set(
        prev.sources
    )
    revised, changed = bool(changes), bool(changes) or bool(added)
    merged.revision = prev.revision + 1 if revised else prev.revision
    if not changed:
        merged.updated_at = prev.updated_at
        merged.first_seen_at = prev.first_seen_at
    return MergeResult(incident=merged, revised=revised, changed=changed, changes=changes)


def changes_between(old: StoredIncident, new: StoredIncident) -> list[str]:
    """What a revision changed, in the words alerts show (``killed 30→64``)."""
    out: list[str] = []
    for field in ("killed", "injured", "captured"):
        a, b = getattr(old, field), getattr(new, field)
        if b is not None and (a is None or b > a):
            out.append(f"{field} {a if a is not None else '?'}→{b}")
    if old.perpetrator == "UNKNOWN" and new.perpetrator != "UNKNOWN":
        out.append(f"perpetrator → {new.perpetrator}")
    added = [t for t in new.targets if t not in old.targets]
    if added:
        out.append(f"targets + {', '.join(added)}")
    if old.location is None and new.location is not None:
        out.append(f"place → {new.location.name_en}")
    elif (
        old.location is not None
        and new.location is not None
        and old.location.lat is None
        and new.location.lat is not None
    ):
        out.append("coordinates added")
    if old.occurred_on is None and new.occurred_on is not None:
        out.append(f"date → {new.occurred_on.isoformat()}")
    return out


def merge_into(held: StoredIncident, cand: Candidate, now: datetime) -> MergeResult:
    """Fold one more report into ``held`` when its reports are not at hand (the incident
    counts as one report): :func:`group_incident` of the two."""
    result = group_incident([as_report(held), cand], now, held, held.article_ids)
    inc = result.incident
    inc.article_ids = _unique([*held.article_ids, *inc.article_ids])
    inc.sources = _unique([*held.sources, *inc.sources])
    inc.urls = _unique([*held.urls, *inc.urls])
    # the held incident stands in as one report at position 0: keep its own positions
    inc.article_positions = _unique([*held.article_positions, position(cand)])
    return result


def new_incident(cand: Candidate, now: datetime) -> StoredIncident:
    """The incident one report starts."""
    return group_incident([cand], now).incident


def links(held: Sequence[Held], cand: Candidate, cfg: MergeConfig) -> list[MatchDecision]:
    """The open incidents ``cand`` tells the same event as one of the reports of (best
    first, then by id): every one of them is the candidate's incident, merged."""
    out: list[MatchDecision] = []
    for h in held:
        best: MatchDecision | None = None
        for report in h.reports:
            if (report.article_id, report.index) == (cand.article_id, cand.index):
                best = MatchDecision(
                    incident_id=h.incident.id, score=100.0, reasons=["article already merged here"]
                )
                break
            d = linked(report, cand, cfg)
            if d is not None and (best is None or d.score > best.score):
                best = MatchDecision(incident_id=h.incident.id, score=d.score, reasons=d.reasons)
        if best is not None:
            out.append(best)
    return sorted(out, key=lambda d: (-d.score, d.incident_id or ""))


def find_match(
    open_incidents: Sequence[StoredIncident | Held], cand: Candidate, cfg: MergeConfig
) -> MatchDecision:
    """The open incident ``cand`` matches best; ``incident_id=None`` means "a new incident"."""
    found = links([as_held(h) for h in open_incidents], cand, cfg)
    return (
        found[0] if found else MatchDecision(incident_id=None, reasons=["no open incident matches"])
    )


@dataclass(frozen=True)
class Held:
    """An open incident and the reports it was built from."""

    incident: StoredIncident
    reports: list[Candidate]


def as_held(h: StoredIncident | Held) -> Held:
    """An open incident without its reports (stored before they were kept) is its own report."""
    if isinstance(h, Held):
        return h if h.reports else Held(h.incident, [as_report(h.incident)])
    return Held(h, [as_report(h)])


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
            or abs((date.fromisoformat(iso) - day).days)
            <= cfg.max_days_apart + cfg.index_slack_days
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
