"""Article-level judgements on assembled incidents: which are summaries of the others.

Why a step of its own: a reporter often opens with the day's total ("قضى 11 مدنياً … جراء
حملة قصف … على عدد من مدن وبلدات ريف إدلب") and then tells each strike with its own toll
(7 in the market of Ariha, 3 in Hazarin, 1 in Maarat Harma). Read sentence by sentence the
lead is one more incident, and the largest one: a false alert of exactly the kind Marsad
exists to prevent. Only the whole article shows that it sums the others, so the judgement is
made here, after assembly.

Rules, each general:

* **A sum.** A toll equal to the sum of two or more other incidents' tolls retells them.
* **A summary lead.** A toll told over a wide scope (no specific place, or three or more,
  or a scope word: "عدد من", "مناطق", "حملة", "منذ صباح اليوم") is the total of two or more
  incidents told after it with their own specific places inside that scope when their tolls make up
  at least half of it and do not exceed it (reports itemize most of a day's dead, not all).
* **A retold total.** A toll with no specific place equal to a period total of the same
  article is that total told again.
* **A period report.** In a report whose first figure is a period total (a monthly or
  yearly report, a campaign's days), a figure told with no place at all, or over a list of
  places, is a breakdown of that total.
All become tallies, never incidents.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from stream.extract.assemble import Assembled
from stream.extract.candidates import TallyFigure
from stream.extract.document import Document


@dataclass(frozen=True)
class Judged:
    incidents: list[Assembled]
    tallies: list[TallyFigure]


def _as_tallies(inc: Assembled) -> list[TallyFigure]:
    """An incident judged to be a total: its dead and wounded figures become tallies."""
    return [
        TallyFigure(cas, None, cas.clause) for cas in inc.figures("killed") + inc.figures("injured")
    ]


def _is_sum(total: int, values: list[int]) -> bool:
    return any(
        sum(combo) == total
        for size in range(2, min(len(values), 4) + 1)
        for combo in combinations(values, size)
    )


def _wide_scope(doc: Document, inc: Assembled) -> bool:
    """No specific place, three or more, or a scope word ("عدد من", "حملة", "مناطق")."""
    if len(inc.specific_places()) >= 3 or not inc.specific_places():
        return True
    return any(
        doc.has_cue(group, doc.clauses[ci].start, doc.clauses[ci].end)
        for ci in inc.clauses
        for group in ("summary_scope", "several_events")
    )


def summary_of_others(doc: Document, inc: Assembled, live: list[Assembled]) -> bool:
    """Is this incident's toll the total of others told in the article?"""
    total = inc.total("killed")
    if not total:
        return False
    others = [o for o in live if o is not inc]
    values = [v for o in others if (v := o.total("killed"))]
    broad = not inc.specific_places() or len(inc.admin1s()) >= 2
    if broad and _is_sum(total, values):
        return True  # the sum of other incidents' tolls
    mine = inc.admin1s()
    placed = [
        v
        for o in others
        if o.specific_places()
        and min(o.clauses) > min(inc.clauses)  # a lead sums what it goes on to tell
        and (v := o.total("killed"))
        and v <= total
        and (not inc.specific_places() or bool(o.admin1s() & mine))
    ]
    # a lead with no specific place at all may be itemized a little over its total (an
    # itemized toll read one too high must not turn the day's total into the largest event)
    ceiling = total * (1.5 if not inc.specific_places() else 1.0)
    # it covers several places and sums incidents told with their own
    return len(placed) >= 2 and total / 2 <= sum(placed) <= ceiling and _wide_scope(doc, inc)


def opens_with_a_tally(
    doc: Document, tallies: list[TallyFigure], incidents: list[Assembled]
) -> bool:
    """The report's first figure is a period total (a monthly or yearly report): the
    earliest tally comes before every incident's first clause."""
    if not tallies:
        return False
    first_tally = min(t.clause for t in tallies)
    firsts = [
        min(c.clause for c in [*i.tolls.values(), *i.extra]) for i in incidents if i.has_toll()
    ]
    return not firsts or first_tally < min(firsts)


def judge(doc: Document, incidents: list[Assembled], tallies_so_far: list[TallyFigure]) -> Judged:
    live = [i for i in incidents if not i.background]
    tallies: list[TallyFigure] = []
    summarised: set[int] = set()
    if opens_with_a_tally(doc, tallies_so_far, incidents):
        for inc in incidents:
            listed = len(inc.specific_places()) >= 3  # "وتوزّع القصف على مدن … إدلب وأريحا …"
            if (not inc.specific_places() or listed) and inc.has_toll():
                # "وبحسب التقرير، قتلت قوات النظام 78 مدنياً": a breakdown of the period
                summarised.add(id(inc))
                tallies.extend(_as_tallies(inc))
    told = {t.casualty.value for t in tallies_so_far if t.casualty.role in ("killed", "executed")}
    for inc in incidents:
        if id(inc) in summarised or inc.specific_places():
            continue
        if inc.total("killed") and inc.total("killed") in told:
            # "وأفاد التقرير بأن المجازر أسفرت عن مقتل 2257": the period total retold
            summarised.add(id(inc))
    live = [i for i in live if id(i) not in summarised]
    changed = True
    while changed:  # a morning total may sum strikes a day total sums too: judge to a fixpoint
        changed = False
        for inc in live:
            if id(inc) in summarised:
                continue
            if summary_of_others(doc, inc, [o for o in live if id(o) not in summarised]):
                summarised.add(id(inc))
                changed = True
                tallies.extend(_as_tallies(inc))
    return Judged([i for i in incidents if id(i) not in summarised], tallies)
