"""Scoring extractions against a gold file in the seeds' format (pure; the CLI does I/O).

Gold semantics: ``admin1`` lists the acceptable governorates; ``perpetrator`` may be a list
of acceptable codes; ``tallies`` lists the tally figures; ``max_incident_killed`` is the
largest current (non-background) incident toll.

Figures:
- ``max_toll_exact``: the largest current incident toll equals the gold one (null = null).
- ``alert_precision`` / ``alert_recall``: per article, it should alert iff the largest current
  toll is >= the alert threshold (10).
- ``incident_precision`` / ``incident_recall``: incidents matched one-to-one when the toll is
  equal (null = null) and the governorate is acceptable.
- ``tally_leaks``: extracted current incidents whose toll is a gold tally figure and not a gold
  incident toll.
- ``largest_admin1`` / ``largest_perpetrator`` / ``largest_event_type``: accuracy of the
  largest incident's fields, over articles whose gold has a largest incident with a toll.

A vague prediction ("عشرات" coded 10 with ``killed_qualifier: "vague"``) is read as null, as
GOLD-CONVENTIONS.md tells every scorer to.

Misses are also named (``miss_kinds``) so a report says *what* went wrong, not only how often:
a tally leak, a false toll (no gold toll), a missed toll, an over- or under-count of the
largest toll, split or merged incidents, or a wrong governorate / perpetrator / event type.
They are counted per gold ``category`` (single, rising, multi, tally, negative) where the gold
file has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from marsad.records import Extraction, Incident

ALERT_THRESHOLD = 10


@dataclass
class ArticleScore:
    id: str
    gold_max: int | None
    pred_max: int | None
    gold_incidents: int
    pred_incidents: int
    matched: int
    tally_leaks: list[int]
    largest: dict[str, bool | None]
    category: str | None = None
    kinds: list[str] = field(default_factory=list)
    #: the largest toll among incidents confident enough for the main channel
    pred_main_max: int | None = None

    @property
    def max_ok(self) -> bool:
        return self.gold_max == self.pred_max


@dataclass
class Figures:
    articles: int
    max_toll_exact: float
    alert_precision: float
    alert_recall: float
    incident_precision: float
    incident_recall: float
    tally_leaks: int
    largest_admin1: float
    largest_perpetrator: float
    largest_event_type: float
    ms_per_article: float | None = None
    main_alert_precision: float | None = None
    main_alert_recall: float | None = None
    per_article: list[ArticleScore] = field(default_factory=list)

    def misses_by_kind(self) -> dict[str, dict[str, list[str]]]:
        """miss kind -> category -> article ids (categories as the gold names them)."""
        out: dict[str, dict[str, list[str]]] = {}
        for s in self.per_article:
            for kind in s.kinds:
                out.setdefault(kind, {}).setdefault(s.category or "-", []).append(s.id)
        return dict(sorted(out.items()))

    def exact_by_category(self) -> dict[str, tuple[int, int]]:
        """category -> (articles whose largest toll is exact, articles)."""
        out: dict[str, tuple[int, int]] = {}
        for s in self.per_article:
            ok, n = out.get(s.category or "-", (0, 0))
            out[s.category or "-"] = (ok + s.max_ok, n + 1)
        return dict(sorted(out.items()))

    def to_dict(self, details: bool = False) -> dict[str, Any]:
        data = asdict(self)
        if details:
            data["per_article"] = [{**asdict(a), "max_ok": a.max_ok} for a in self.per_article]
        else:
            data.pop("per_article")
        return data


def _listify(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _current_max(tolls: Sequence[int | None]) -> int | None:
    values = [t for t in tolls if t is not None]
    return max(values) if values else None


def gold_max(gold: dict[str, Any]) -> int | None:
    if "max_incident_killed" in gold:
        value = gold["max_incident_killed"]
        return int(value) if value is not None else None
    return _current_max(
        [g.get("killed") for g in gold.get("incidents", []) if not g.get("background")]
    )


def scored_killed(pred: Incident) -> int | None:
    """The toll a scorer reads: a vague round figure ("عشرات" -> 10) counts as no number."""
    return None if pred.killed_qualifier == "vague" else pred.killed


def _admin1_ok(gold_inc: dict[str, Any], pred: Incident) -> bool:
    accepted = _listify(gold_inc.get("admin1"))
    if not accepted:
        return True
    return pred.location is not None and pred.location.admin1 in accepted


def _max_matching(gold: list[dict[str, Any]], pred: list[Incident]) -> int:
    """Size of a maximum one-to-one matching (toll equal and governorate acceptable)."""
    edges = [
        [j for j, p in enumerate(pred) if scored_killed(p) == g.get("killed") and _admin1_ok(g, p)]
        for g in gold
    ]
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in edges[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    return sum(augment(i, set()) for i in range(len(gold)))


def _largest_gold(gold: dict[str, Any]) -> dict[str, Any] | None:
    live = [
        g
        for g in gold.get("incidents", [])
        if not g.get("background") and g.get("killed") is not None
    ]
    return max(live, key=lambda g: g["killed"]) if live else None


def _largest_pred(ex: Extraction) -> Incident | None:
    live = [i for i in ex.incidents if not i.background and scored_killed(i) is not None]
    return max(live, key=lambda i: scored_killed(i) or 0) if live else None


def _kinds(
    gold_max_: int | None,
    pred_max: int | None,
    leaks: list[int],
    matched: int,
    n_gold: int,
    n_pred: int,
    largest: dict[str, bool | None],
) -> list[str]:
    kinds = []
    if leaks:
        kinds.append("tally leak")
    if gold_max_ != pred_max and not leaks:
        if gold_max_ is None:
            kinds.append("false toll")
        elif pred_max is None:
            kinds.append("missed toll")
        elif pred_max > gold_max_:
            kinds.append("overcount")
        else:
            kinds.append("undercount")
    if gold_max_ == pred_max and matched < max(n_gold, n_pred):
        kinds.append("incidents split/merged/missed" if n_gold != n_pred else "incident mismatch")
    for key, label in (
        ("admin1", "governorate"),
        ("perpetrator", "perpetrator"),
        ("event_type", "event type"),
    ):
        if largest.get(key) is False:
            kinds.append(f"wrong {label}")
    return kinds


def score_article(
    article_id: str,
    gold: dict[str, Any],
    ex: Extraction,
    category: str | None = None,
    min_confidence: float = 0.0,
) -> ArticleScore:
    current = [i for i in ex.incidents if not i.background]
    pred_max = _current_max([scored_killed(i) for i in current])
    main_max = _current_max([scored_killed(i) for i in current if i.confidence >= min_confidence])
    gold_incidents = list(gold.get("incidents", []))
    gold_tolls = {g.get("killed") for g in gold_incidents if g.get("killed") is not None}
    tallies = {int(t) for t in gold.get("tallies", []) if t is not None}
    leaks = [k for i in current if (k := scored_killed(i)) in tallies and k not in gold_tolls]
    largest: dict[str, bool | None] = {"admin1": None, "perpetrator": None, "event_type": None}
    g = _largest_gold(gold)
    if g is not None:
        p = _largest_pred(ex)
        largest = {
            "admin1": p is not None and _admin1_ok(g, p),
            "perpetrator": p is not None and p.perpetrator in _listify(g.get("perpetrator")),
            "event_type": p is not None and p.event_type in _listify(g.get("event_type")),
        }
    matched = _max_matching(gold_incidents, list(ex.incidents))
    leak_values = [x for x in leaks if x is not None]
    g_max = gold_max(gold)
    return ArticleScore(
        id=article_id,
        gold_max=g_max,
        pred_max=pred_max,
        gold_incidents=len(gold_incidents),
        pred_incidents=len(ex.incidents),
        matched=matched,
        tally_leaks=leak_values,
        largest=largest,
        category=category,
        pred_main_max=main_max,
        kinds=_kinds(
            g_max,
            pred_max,
            leak_values,
            matched,
            len(gold_incidents),
            len(ex.incidents),
            largest,
        ),
    )


def _ratio(num: int, den: int, empty: float = 1.0) -> float:
    return round(num / den, 4) if den else empty


def _alerts(scores: list[ArticleScore], main: bool) -> tuple[float, float]:
    tp = fp = fn = 0
    for s in scores:
        pred = s.pred_main_max if main else s.pred_max
        gold_alert = s.gold_max is not None and s.gold_max >= ALERT_THRESHOLD
        pred_alert = pred is not None and pred >= ALERT_THRESHOLD
        tp += gold_alert and pred_alert
        fp += pred_alert and not gold_alert
        fn += gold_alert and not pred_alert
    return _ratio(tp, tp + fp), _ratio(tp, tp + fn)


def aggregate(scores: list[ArticleScore], ms_per_article: float | None = None) -> Figures:
    precision, recall = _alerts(scores, main=False)
    main_precision, main_recall = _alerts(scores, main=True)
    matched = sum(s.matched for s in scores)

    def accuracy(key: str) -> float:
        judged = [s.largest[key] for s in scores if s.largest[key] is not None]
        return _ratio(sum(bool(x) for x in judged), len(judged))

    return Figures(
        articles=len(scores),
        max_toll_exact=_ratio(sum(s.max_ok for s in scores), len(scores)),
        alert_precision=precision,
        alert_recall=recall,
        incident_precision=_ratio(matched, sum(s.pred_incidents for s in scores)),
        incident_recall=_ratio(matched, sum(s.gold_incidents for s in scores)),
        tally_leaks=sum(len(s.tally_leaks) for s in scores),
        largest_admin1=accuracy("admin1"),
        largest_perpetrator=accuracy("perpetrator"),
        largest_event_type=accuracy("event_type"),
        ms_per_article=round(ms_per_article, 2) if ms_per_article is not None else None,
        main_alert_precision=main_precision,
        main_alert_recall=main_recall,
        per_article=scores,
    )


def render(figures: Figures) -> str:
    """Human-readable report."""
    rows = [
        ("articles", str(figures.articles)),
        ("largest current toll, exact match", f"{figures.max_toll_exact:.3f}"),
        (f"alert precision (killed >= {ALERT_THRESHOLD})", f"{figures.alert_precision:.3f}"),
        (f"alert recall (killed >= {ALERT_THRESHOLD})", f"{figures.alert_recall:.3f}"),
        ("incident precision (toll + governorate)", f"{figures.incident_precision:.3f}"),
        ("incident recall (toll + governorate)", f"{figures.incident_recall:.3f}"),
        ("tally leaks", str(figures.tally_leaks)),
        ("main-channel alert precision (confident)", f"{figures.main_alert_precision:.3f}"),
        ("main-channel alert recall (confident)", f"{figures.main_alert_recall:.3f}"),
        ("largest incident: governorate accuracy", f"{figures.largest_admin1:.3f}"),
        ("largest incident: perpetrator accuracy", f"{figures.largest_perpetrator:.3f}"),
        ("largest incident: event type accuracy", f"{figures.largest_event_type:.3f}"),
    ]
    if figures.ms_per_article is not None:
        rows.append(("extraction time, ms/article", f"{figures.ms_per_article:.1f}"))
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {v}" for k, v in rows]
    misses = [
        s
        for s in figures.per_article
        if not s.max_ok or s.tally_leaks or s.matched < max(s.gold_incidents, s.pred_incidents)
    ]
    kinds = figures.misses_by_kind()
    if kinds:
        lines.append("")
        lines.append("misses by kind and gold category (article ids):")
        for kind, cats in kinds.items():
            total = sum(len(v) for v in cats.values())
            lines.append(f"  {kind}: {total}")
            for cat, ids in sorted(cats.items()):
                lines.append(f"    {cat}: {len(ids)}  {' '.join(ids)}")
    by_cat = figures.exact_by_category()
    if len(by_cat) > 1:
        lines.append("")
        lines.append("largest toll exact, by gold category:")
        for cat, (ok, n) in by_cat.items():
            lines.append(f"  {cat:<9} {ok}/{n}")
    if misses:
        lines.append("")
        lines.append(
            "articles with differences "
            "(id: gold max / extracted max, matched/gold/extracted incidents):"
        )
        for s in misses:
            leak = f", tally leaks {s.tally_leaks}" if s.tally_leaks else ""
            lines.append(
                f"  {s.id}: {s.gold_max} / {s.pred_max}, "
                f"{s.matched}/{s.gold_incidents}/{s.pred_incidents}{leak}"
            )
    return "\n".join(lines)
