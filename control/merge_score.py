"""Score incident identity: which reports ended in one incident, against which tell one event.

Why pairwise and B-cubed both: pairwise precision/recall count every pair of reports, so a big
event told by many outlets weighs most (the JRC's news event linking figures are pairwise);
B-cubed averages per report, so a small attack hidden inside a big one costs as much as a big
event split in two. Pure functions over plain mappings; ``marsad eval-merge`` feeds them from
the ``incidents`` a real stream run produced.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any


@dataclass(frozen=True)
class MergeScores:
    reports: int
    events: int
    incidents: int
    pair_precision: float
    pair_recall: float
    pair_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    #: Pairs of report ids in one incident that tell different events, and pairs of one event
    #: left in different incidents.
    false_merges: tuple[tuple[str, str], ...] = ()
    missed_merges: tuple[tuple[str, str], ...] = ()

    def line(self) -> str:
        return (
            f"pairwise P/R/F1 {self.pair_precision:.3f}/{self.pair_recall:.3f}/"
            f"{self.pair_f1:.3f}  B-cubed P/R/F1 {self.bcubed_precision:.3f}/"
            f"{self.bcubed_recall:.3f}/{self.bcubed_f1:.3f}  ({self.reports} reports, "
            f"{self.events} events, {self.incidents} incidents)"
        )


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def report_incidents(incidents: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Report id → the incident it ended in, from the last revision of each incident.

    A report read as several incidents is counted in the one holding its lead, the first of
    its incidents (``article_positions``): the set's reports each tell one current event,
    and a report leads with it; what comes after recalls others ("ويأتي الهجوم بعد يومين
    من تفجير …"), often with a larger toll. Incidents without positions (written before
    they were kept) count a report in the one with the largest toll.
    """
    latest: dict[str, Mapping[str, Any]] = {}
    for inc in incidents:
        key = str(inc["id"])
        if key not in latest or int(inc.get("revision") or 0) >= int(
            latest[key].get("revision") or 0
        ):
            latest[key] = inc
    best: dict[str, tuple[int, int, str]] = {}
    for key, inc in sorted(latest.items()):
        toll = int(inc.get("killed") or 0)
        lead: dict[str, int] = {}
        for ref in inc.get("article_positions") or []:
            article, _, index = str(ref).rpartition("#")
            lead[article] = min(lead.get(article, 1 << 30), int(index))
        for article in inc.get("article_ids") or []:
            # lower position first, then the larger toll
            rank = (-lead.get(str(article), 1 << 30), toll)
            if article not in best or rank > best[str(article)][:2]:
                best[str(article)] = (*rank, key)
    return {article: key for article, (_pos, _toll, key) in best.items()}


def score(gold_events: Mapping[str, str], predicted: Mapping[str, str]) -> MergeScores:
    """``gold_events``: report id → gold event; ``predicted``: report id → incident id.

    Only reports of ``gold_events`` are scored; one missing from ``predicted`` stands alone.
    """
    reports = sorted(gold_events)
    cluster = {r: predicted.get(r, f"alone:{r}") for r in reports}
    same_pred = same_gold = both = 0
    false_merges: list[tuple[str, str]] = []
    missed: list[tuple[str, str]] = []
    for a, b in combinations(reports, 2):
        p = cluster[a] == cluster[b]
        g = gold_events[a] == gold_events[b]
        same_pred += p
        same_gold += g
        both += p and g
        if p and not g:
            false_merges.append((a, b))
        elif g and not p:
            missed.append((a, b))
    pair_p = both / same_pred if same_pred else 1.0
    pair_r = both / same_gold if same_gold else 1.0
    members_pred: dict[str, set[str]] = defaultdict(set)
    members_gold: dict[str, set[str]] = defaultdict(set)
    for r in reports:
        members_pred[cluster[r]].add(r)
        members_gold[gold_events[r]].add(r)
    bp = br = 0.0
    for r in reports:
        shared = len(members_pred[cluster[r]] & members_gold[gold_events[r]])
        bp += shared / len(members_pred[cluster[r]])
        br += shared / len(members_gold[gold_events[r]])
    n = len(reports) or 1
    return MergeScores(
        reports=len(reports),
        events=len(members_gold),
        incidents=len(members_pred),
        pair_precision=pair_p,
        pair_recall=pair_r,
        pair_f1=_f1(pair_p, pair_r),
        bcubed_precision=bp / n,
        bcubed_recall=br / n,
        bcubed_f1=_f1(bp / n, br / n),
        false_merges=tuple(false_merges),
        missed_merges=tuple(missed),
    )
