"""The merge step: what one candidate does to the open incidents of its governorate.

The ``merge-candidates`` agent reads the governorate's index and the open incidents it
names, calls these functions, publishes what they return and then writes the tables.
They are plain functions of plain values (records and lists in, a small typed result out)
so every decision of that step is tested without a broker:

* :func:`candidates_of` — which incidents of an article become candidates, and the
  partition key (the governorate) that brings reports of one event to one worker;
* :func:`merge_candidate` — which open incident the candidate joins (``stream.merge``
  decides identity), the new or merged incident, and whether anything changed at all;
* :func:`index_update` — the governorate's new index entries and the incidents that fall
  out of it (``merge.max_open``).

The alerts come from ``stream.alerting.incident_alerts`` and the window updates from
``stream.windows.window_updates``. *When* things happen is the agent's part, and it does
not vary: the incident, its window updates and its alerts are sent, their delivery is
awaited, and only then are ``fired-alerts``, ``open-incidents`` and ``governorate-index``
written, so a crash in between re-sends the same ids instead of losing an alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marsad.records import Article, Extraction, Incident, StoredIncident
from stream.merge import (
    Candidate,
    IndexEntry,
    MatchDecision,
    MergeConfig,
    find_match,
    index_entry,
    merge_into,
    new_incident,
    prune_index,
)

__all__ = [
    "IndexUpdate",
    "MergeOutcome",
    "candidates_of",
    "governorate",
    "index_entries",
    "index_update",
    "merge_candidate",
]


def governorate(inc: Incident) -> str:
    """The incident's governorate (``admin1``), ``UNKNOWN`` without one: the key of
    ``incident-candidates`` and of the merge tables, since only reports from the same
    governorate can describe the same event."""
    return (inc.location.admin1 if inc.location else None) or "UNKNOWN"


def candidates_of(article: Article, extraction: Extraction) -> Iterator[tuple[str, Candidate]]:
    """``(governorate, candidate)`` for each incident the article reports, in order.

    Background incidents are skipped: an earlier event the article recalls is never a
    new incident. ``Candidate.index`` is the incident's position in the extraction (the
    incident id hashes it), counted before the skip so it stays stable."""
    for index, inc in enumerate(extraction.incidents):
        if inc.background:
            continue
        cand = Candidate(
            article_id=article.id,
            index=index,
            source=article.source,
            url=article.url,
            published_at=article.published_at,
            incident=inc,
        )
        yield governorate(inc), cand


def index_entries(stored: Iterable[Sequence[Any]]) -> list[IndexEntry]:
    """A ``governorate-index`` value (JSON lists) as ``(incident id, event day)`` entries."""
    return [(str(e[0]), e[1]) for e in stored]


@dataclass(frozen=True)
class MergeOutcome:
    """What a candidate did: started an incident, or was folded into an open one."""

    #: The new incident, or the open one with this report folded in.
    incident: StoredIncident
    #: Why it joined that incident (or "no open incident matches"), for the log.
    decision: MatchDecision
    #: False for a report we already hold: nothing to publish, alert or store.
    changed: bool
    #: What a revision changed (``killed 30→64``…); empty for a new incident.
    changes: list[str] = field(default_factory=list)

    @property
    def is_new(self) -> bool:
        return self.decision.incident_id is None


def merge_candidate(
    cand: Candidate, held: Sequence[StoredIncident], cfg: MergeConfig, now: datetime
) -> MergeOutcome:
    """Match ``cand`` against the open incidents ``held`` (those :func:`stream.merge.ids_near`
    named) and return the incident it creates or revises."""
    decision = find_match(list(held), cand, cfg)
    if decision.incident_id is None:
        return MergeOutcome(new_incident(cand, now), decision, changed=True)
    target = next(h for h in held if h.id == decision.incident_id)
    result = merge_into(target, cand, now)
    return MergeOutcome(result.incident, decision, changed=result.changed, changes=result.changes)


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
    index: Sequence[IndexEntry], inc: StoredIncident, cfg: MergeConfig
) -> IndexUpdate | None:
    """The index with ``inc``'s entry (replacing an older entry of the same id, e.g. once a
    report fills in the date), capped at ``cfg.max_open``; ``None`` when the entry is
    already there, so an unchanged index writes nothing to the changelog."""
    entry = index_entry(inc)
    if entry in index:
        return None
    kept, dropped = prune_index([e for e in index if e[0] != inc.id] + [entry], cfg)
    return IndexUpdate(entries=kept, dropped=dropped)
