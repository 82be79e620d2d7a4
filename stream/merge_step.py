"""The merge step: what one candidate does to the open incidents of its partition key.

The ``merge-candidates`` agent reads the key's index (``governorate-index``; the key is the
country) and the open incidents it names with their reports, calls these functions,
publishes what they return and then writes the tables.
They are plain functions of plain values (records and lists in, a small typed result out)
so every decision of that step is tested without a broker:

* :func:`candidates_of` — which incidents of an article become candidates, and the
  partition key (:func:`partition_key`, the country) that brings every report that might
  tell one event, border events included, to one worker;
* :func:`merge_candidate` — which open incidents the candidate joins (``stream.merge``
  decides identity), the new or merged incident, the twins it absorbs, and whether
  anything changed at all;
* :func:`index_update` — the key's new index entries and the incidents that fall out of
  it (``merge.max_open``);
* :class:`MergeBook` — the same reads and writes over dicts (in-process evaluation, tests).

The alerts come from ``stream.alerting.incident_alerts`` and the window updates from
``stream.windows.window_updates``. *When* things happen is the agent's part, and it does
not vary: the incident, its window updates and its alerts are sent, their delivery is
awaited, and only then are ``fired-alerts``, ``open-incidents``, ``incident-reports`` and
``governorate-index`` written, so a crash in between re-sends the same ids instead of
losing an alert.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marsad.records import Article, Extraction, Incident, StoredIncident
from stream.merge import (
    Candidate,
    Held,
    IndexEntry,
    MatchDecision,
    MergeConfig,
    as_held,
    group_incident,
    ids_near,
    incident_id,
    index_entry,
    links,
    new_incident,
    prune_index,
    report_key,
)

__all__ = [
    "IndexUpdate",
    "MergeBook",
    "MergeOutcome",
    "candidate_key",
    "candidates_of",
    "governorate",
    "index_entries",
    "index_update",
    "merge_candidate",
    "partition_key",
    "told_in",
]


def governorate(inc: Incident) -> str:
    """The incident's governorate (``admin1``), ``UNKNOWN`` without one."""
    return (inc.location.admin1 if inc.location else None) or "UNKNOWN"


def candidate_key(cand: Candidate) -> str:
    """The partition key of a candidate: its incident's country, else the country its
    article was told in (``Candidate.country``), else ``UNKNOWN``."""
    key = partition_key(cand.incident)
    return (cand.country or key) if key == "UNKNOWN" else key


def told_in(article: Article, extraction: Extraction) -> str | None:
    """The country an article without a place for an incident is about: the country of its
    other incidents, else the one its words name most ("العراق", "القوات السورية")."""
    located = {partition_key(i) for i in extraction.incidents} - {"UNKNOWN"}
    if len(located) == 1:
        return located.pop()
    from stream.extract.lexicon import lexicon
    from stream.extract.normalize import norm

    words = norm(f"{article.title or ''} {article.text}").split()
    votes = Counter(
        {c: sum(w in names for w in words) for c, names in lexicon().words.country_words.items()}
    ).most_common(2)
    if not votes or votes[0][1] == 0 or (len(votes) > 1 and votes[1][1] == votes[0][1]):
        return None  # no country named, or two named as often
    return votes[0][0]


def partition_key(inc: Incident) -> str:
    """The key of ``incident-candidates`` and of the merge tables: the country of the
    incident's governorate (``SY`` of ``SY-DY``), ``UNKNOWN`` without one.

    Why the country and not the governorate: an event near a governorate line is told in
    one governorate by one outlet and in the next by another (the T2 station as "ريف حمص
    الشرقي" and as "بادية دير الزور"), and reports only merge when they meet on one
    partition. Every report that might tell one event names a place in the same country,
    so they always meet; the merge work per candidate stays bounded by the date index."""
    gov = governorate(inc)
    return gov.split("-", 1)[0] if gov != "UNKNOWN" else gov


def candidates_of(article: Article, extraction: Extraction) -> Iterator[tuple[str, Candidate]]:
    """``(partition key, candidate)`` for each incident the article reports, in order.

    Background incidents are skipped: an earlier event the article recalls is never a
    new incident. ``Candidate.index`` is the incident's position in the extraction (the
    incident id hashes it), counted before the skip so it stays stable."""
    current = {i: inc for i, inc in enumerate(extraction.incidents) if not inc.background}
    placeless = any(inc.location is None for inc in current.values())
    country = told_in(article, extraction) if placeless else None
    for index, inc in current.items():
        cand = Candidate(
            article_id=article.id,
            index=index,
            source=article.source,
            url=article.url,
            published_at=article.published_at,
            title=article.title,
            incident=inc,
            siblings={i: other for i, other in current.items() if i != index},
            country=country if inc.location is None else None,
        )
        yield candidate_key(cand), cand


def index_entries(stored: Iterable[Sequence[Any]]) -> list[IndexEntry]:
    """A ``governorate-index`` value (JSON lists) as ``(incident id, event day)`` entries."""
    return [(str(e[0]), e[1]) for e in stored]


@dataclass(frozen=True)
class MergeOutcome:
    """What a candidate did: started an incident, joined one, or joined several into one."""

    #: The new incident, or the surviving one with this report (and any twins) folded in.
    incident: StoredIncident
    #: Why it joined that incident (or "no open incident matches"), for the log.
    decision: MatchDecision
    #: False for a report we already hold: nothing to publish, alert or store.
    changed: bool
    #: What a revision changed (``killed 30→64``…); empty for a new incident.
    changes: list[str] = field(default_factory=list)
    #: The reports the incident is built from (the ``incident-reports`` value).
    reports: list[Candidate] = field(default_factory=list)
    #: Open incidents this report showed to be the same event: their last revision, with
    #: ``merged_into`` the surviving incident's id. Publish them, then forget them.
    absorbed: list[StoredIncident] = field(default_factory=list)

    @property
    def is_new(self) -> bool:
        return self.decision.incident_id is None

    @property
    def published(self) -> list[StoredIncident]:
        """What goes to ``incidents``: the incident, then each absorbed twin's last revision."""
        return [self.incident, *self.absorbed]


def merge_candidate(
    cand: Candidate, held: Sequence[StoredIncident | Held], cfg: MergeConfig, now: datetime
) -> MergeOutcome:
    """Join ``cand`` with every open incident ``held`` (those :func:`stream.merge.ids_near`
    named) one of whose reports tells the same event, and return the incident they are.

    Order-free: an incident is the connected group of reports linked pairwise by
    :func:`stream.merge.same_event`, named by its first report and tolled by its highest
    (:func:`stream.merge.group_incident`), so the same reports give the same incidents in any
    order. When the report links two open incidents, they are one: the one named by the
    group's first report lives on, the other gets a last revision with ``merged_into``."""
    opened = [as_held(h) for h in held]
    found = links(opened, cand, cfg)
    if not found:
        inc = new_incident(cand, now)
        decision = MatchDecision(incident_id=None, reasons=["no open incident matches"])
        return MergeOutcome(inc, decision, changed=True, reports=[cand])
    joined = [h for h in opened if any(d.incident_id == h.incident.id for d in found)]
    reports = [
        r
        for h in joined
        for r in h.reports
        if (r.article_id, r.index) != (cand.article_id, cand.index)
    ]
    reports.append(cand)
    survivor_id = incident_id(min(reports, key=report_key))
    prev = next((h.incident for h in joined if h.incident.id == survivor_id), None)
    legacy = [a for h in joined for a in h.incident.article_ids]
    result = group_incident(reports, now, prev, legacy)
    decision = found[0]
    # Why this report joined: kept on the revision it makes (the desk shows each revision's).
    result.incident.merge_reasons = list(decision.reasons)
    absorbed = [
        h.incident.model_copy(
            update={
                "merged_into": survivor_id,
                "revision": h.incident.revision + 1,
                "updated_at": now,
                "merge_reasons": list(decision.reasons),
            }
        )
        for h in joined
        if h.incident.id != survivor_id
    ]
    # A new report changes the group even when it adds no toll, fact or source (a second
    # incident read in an article already held): it must be stored, or a later report that
    # only it links to would start an incident of its own.
    known = any(
        (r.article_id, r.index) == (cand.article_id, cand.index) for h in joined for r in h.reports
    )
    changed = result.changed or bool(absorbed) or not known
    return MergeOutcome(
        result.incident,
        decision,
        changed=changed,
        changes=result.changes,
        reports=sorted(reports, key=report_key),
        absorbed=absorbed,
    )


@dataclass(frozen=True)
class IndexUpdate:
    """A governorate's index after an incident was stored."""

    entries: list[IndexEntry]
    #: Incidents pushed out by ``max_open``: delete them from ``open-incidents``.
    dropped: list[str]

    def table_value(self) -> list[list[Any]]:
        """The ``governorate-index`` value (JSON lists)."""
        return [list(e) for e in self.entries]


def index_update(
    index: Sequence[IndexEntry],
    inc: StoredIncident,
    cfg: MergeConfig,
    removed: Sequence[str] = (),
) -> IndexUpdate | None:
    """The index with ``inc``'s entry (replacing an older entry of the same id, e.g. once a
    report fills in the date) and without the ``removed`` ids (absorbed twins), capped at
    ``cfg.max_open``; ``None`` when nothing changes, so an unchanged index writes nothing
    to the changelog."""
    entry = index_entry(inc)
    gone = set(removed)
    if entry in index and not gone & {e[0] for e in index}:
        return None
    rest = [e for e in index if e[0] != inc.id and e[0] not in gone]
    kept, dropped = prune_index([*rest, entry], cfg)
    return IndexUpdate(entries=kept, dropped=dropped)


class MergeBook:
    """The merge agent's three tables as dicts: what ``marsad eval-merge --in-process`` and
    the tests run, the same reads, decisions and writes as ``stream.app``'s agent."""

    def __init__(self, cfg: MergeConfig) -> None:
        self.cfg = cfg
        self.incidents: dict[str, StoredIncident] = {}
        self.reports: dict[str, list[Candidate]] = {}
        self.index: dict[str, list[IndexEntry]] = {}

    def held(self, key: str, cand: Candidate) -> list[Held]:
        index = self.index.get(key, [])
        near = [i for i in ids_near(index, cand, self.cfg) if i in self.incidents]
        return [Held(self.incidents[i], self.reports.get(i, [])) for i in near]

    def add(self, key: str, cand: Candidate, now: datetime) -> MergeOutcome:
        outcome = merge_candidate(cand, self.held(key, cand), self.cfg, now)
        if outcome.changed:
            self.store(key, outcome)
        return outcome

    def store(self, key: str, outcome: MergeOutcome) -> None:
        inc = outcome.incident
        self.incidents[inc.id] = inc
        self.reports[inc.id] = outcome.reports
        gone = [a.id for a in outcome.absorbed]
        for old in gone:
            self.incidents.pop(old, None)
            self.reports.pop(old, None)
        up = index_update(self.index.get(key, []), inc, self.cfg, gone)
        if up is not None:
            self.index[key] = up.entries
            for old in up.dropped:
                self.incidents.pop(old, None)
                self.reports.pop(old, None)
