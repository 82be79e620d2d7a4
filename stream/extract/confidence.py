"""How far an incident's reading can be trusted: named signals, weighed by a calibrated model.

Why: a toll read from a plain "قتل 12 عنصراً بهجوم على حاجز في السخنة" is nearly always right;
one read beside a summary cue, a competing source or an implied count ("قيادي وعنصران") is
wrong far more often. The signals below are facts the rules already know; their weights are
fitted on the train split by ``scripts/calibrate_confidence.py`` (a logistic regression) and
shipped as ``data/confidence.yaml``, so that ``confidence`` estimates the chance that the
incident and its toll are right. The alert rules use it: ``deadly-incident`` goes to the main
channel only above the threshold the README states; the rest go to review.

Every signal that fired is kept on the incident (``confidence_signals``), so the number can
always be explained.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from stream.extract.assemble import Assembled
from stream.extract.document import Document
from stream.extract.lexicon import load_checked

#: the signals, in the order the model file lists them; each is 0 or 1
SIGNALS = (
    "no_toll",  # no death figure at all
    "implied_count",  # a count read from nouns, not numerals ("قيادي وعنصران")
    "summary_cue",  # a scope or period word in the incident's clauses
    "competing_figures",  # another source's figure was set aside
    "superseded_figure",  # an earlier count was set aside (a rising toll)
    "risen_toll",  # the toll is a risen figure ("ارتفع إلى 41")
    "specific_place",  # a town, village or district is named
    "known_perpetrator",  # the attacker is named
    "dated",  # the day is known
    "approximate",  # "نحو", "أكثر من", "على الأقل", "عشرات"
    "busy_article",  # the article tells three incidents or more
    "article_has_tallies",  # the article also reports running totals
)
# Not signals, on purpose: "several sides" (adding every side's dead is the ACLED rule, not a
# weakness) and "a large toll" (every alert has one: it would only move the bar for alerts).

_SUMMARY_GROUPS = ("summary_scope", "several_events", "period_report", "tally", "cumulative")


class ConfidenceModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    bias: float
    weights: dict[str, float]
    fitted_on: str = ""
    alert_threshold: float


@lru_cache(maxsize=1)
def model() -> ConfidenceModel:
    loaded = load_checked("confidence.yaml", ConfidenceModel)
    unknown = set(loaded.weights) - set(SIGNALS)
    if unknown:
        from stream.extract.schema import LexiconError

        raise LexiconError(f"confidence.yaml: weights: unknown signals {sorted(unknown)}")
    return loaded


def signals(
    doc: Document,
    inc: Assembled,
    *,
    perpetrator: str,
    incidents_in_article: int,
    tallies_in_article: int,
) -> dict[str, int]:
    """The 0/1 signals of one assembled incident (pure)."""
    figures = inc.figures("killed") + inc.figures("executed")
    killed = sum(c.value for c in figures) if figures else None
    clauses = [doc.clauses[ci] for ci in inc.clauses]
    qualifiers = {c.q.qualifier for c in figures if c.q.qualifier}
    found = {
        "no_toll": killed is None,
        "implied_count": any(c.q.kind == "singular" for c in figures),
        "summary_cue": any(
            doc.has_cue(g, c.start, c.end) for c in clauses for g in _SUMMARY_GROUPS
        ),
        "competing_figures": any(why == "alternative" for _, why in inc.set_aside),
        "superseded_figure": any(why == "superseded" for _, why in inc.set_aside),
        "risen_toll": any(c.rising for c in figures),
        "specific_place": bool(inc.specific_places()),
        "known_perpetrator": perpetrator != "UNKNOWN",
        "dated": inc.date is not None,
        "approximate": bool(qualifiers),
        "busy_article": incidents_in_article >= 3,
        "article_has_tallies": tallies_in_article > 0,
    }
    return {name: int(found[name]) for name in SIGNALS}


def score(found: Mapping[str, int], m: ConfidenceModel | None = None) -> float:
    """The model's estimate that the incident and its toll are right (0..1)."""
    m = m or model()
    z = m.bias + sum(m.weights.get(name, 0.0) * value for name, value in found.items())
    return 1.0 / (1.0 + math.exp(-z))
