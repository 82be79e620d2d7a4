"""Candidates merged into incidents, and each incident's tolls kept straight.

Order of decisions, each a general rule:

1. A candidate without a place joins the one before it ("في هذه الاشتباكات … ارتفع إلى 41");
   one with a place joins an incident sharing a specific place whose attacker does not
   contradict it.
2. Rising tolls replace, retold tolls are counted once, each side's dead add up.
3. Recalled events (background) are kept only when they carry a figure; a toll that is the
   sum of other incidents' tolls ("8 قتلى" = 4 + 4) is not another incident.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date

from stream.extract.candidates import SPECIFIC_RANK, Candidate
from stream.extract.casualties import Casualty
from stream.extract.document import Document
from stream.extract.places import PlaceMention, most_specific

_QUALIFIER_WEIGHT = {"vague": 4, "approx": 3, "more_than": 2, "at_least": 1}


@dataclass
class Assembled:
    """An incident while it is being assembled from candidates."""

    clauses: list[int]
    places: list[PlaceMention]
    tolls: dict[tuple[str, str], Casualty]  # (role, actor or "") -> casualty
    extra: list[Casualty]  # tolls without an actor
    actors: list[int]
    date: date | None
    events: Counter[str]
    background: bool
    aside: bool
    generic: bool
    zero: tuple[bool, bool] = (False, False)
    evidence_clauses: list[int] = field(default_factory=list)
    #: figures read but not counted, each with why ("alternative", "superseded")
    set_aside: list[tuple[Casualty, str]] = field(default_factory=list)

    def specific_places(self) -> set[str]:
        """Specific places named, bearings included ("غربي البوكمال" still names the area)."""
        return {p.place.name_en for p in self.places if p.place.rank <= SPECIFIC_RANK}

    def admin1s(self) -> set[str]:
        """The governorates named (bearings too), not where people went or came from."""
        return {p.place.admin1 for p in self.places if p.place.admin1 and not p.away}

    def figures(self, role: str) -> list[Casualty]:
        return [c for (r, _), c in self.tolls.items() if r == role] + [
            c for c in self.extra if c.role == role
        ]

    def total(self, role: str) -> int | None:
        values = [c.value for c in self.figures(role)]
        if values:
            return sum(values)
        zero_killed, zero_injured = self.zero
        if (role == "killed" and zero_killed) or (role == "injured" and zero_injured):
            return 0
        return None

    def has_toll(self) -> bool:
        return bool(self.tolls or self.extra)


def _attackers(doc: Document, actor_ids: list[int]) -> set[str]:
    return {doc.actors[i].code for i in actor_ids if doc.actors[i].role == "attacker"}


def _new(doc: Document, c: Candidate) -> Assembled:
    inc = Assembled(
        clauses=list(c.clauses),
        places=list(c.places),
        tolls={},
        extra=[],
        actors=list(c.actors),
        date=c.date,
        events=Counter(c.events),
        background=c.background,
        aside=c.aside,
        generic=c.generic,
        zero=c.zero,
    )
    _add_tolls(doc, inc, c.casualties, rising=c.rising)
    return inc


def _set_aside(inc: Assembled, cas: Casualty, sides: set[str]) -> str | None:
    """Why a figure is not counted in this incident, if it is not: another source's
    figure for the same dead (an alternative), or an earlier count of them (superseded).
    A figure for another side is never set aside: each side's dead add up."""
    so_far = inc.total(cas.role)
    if not so_far or cas.rising:
        return None
    same_dead = not cas.actor or not sides or bool(sides & {"", cas.actor})
    if cas.alternative and same_dead:
        return "alternative"
    if cas.earlier and same_dead and cas.value <= so_far:
        return "superseded"
    if cas.restated:
        return "restatement"
    return None


def _restates(doc: Document, inc: Assembled, cas: Casualty) -> bool:
    """The same number of the same dead told again in another sentence ("5 شهداء" … "خمسة
    مدنيين"): one side of the two is unnamed, so nothing says they are different people."""
    here = doc.clause_sentence[cas.clause]
    for other in inc.figures(cas.role):
        if other.value != cas.value or doc.clause_sentence[other.clause] == here:
            continue
        if not other.actor or not cas.actor or other.actor == cas.actor:
            return not cas.more
    return False


def _add_tolls(doc: Document, inc: Assembled, casualties: list[Casualty], *, rising: bool) -> None:
    _replace_rounded(inc, casualties)
    for cas in casualties:
        key = (cas.role, cas.actor or "")
        old = inc.tolls.get(key)
        so_far = inc.total(cas.role)
        sides = {k[1] for k in inc.tolls if k[0] == cas.role}
        sides |= {e.actor or "" for e in inc.extra if e.role == cas.role}
        one_side = not key[1] or sides <= {"", key[1]}
        if _restates(doc, inc, cas):
            cas = replace(cas, restated=True)
        why = _set_aside(inc, cas, sides)
        if why is not None:
            inc.set_aside.append((cas, why))
            continue
        if cas.rising and so_far and cas.value >= so_far and one_side:
            # "توفي عنصران …، ليرتفع عدد القتلى في الهجوم إلى خمسة": the risen figure is the
            # whole toll (of every side, or of the only side counted); the counts before it
            # are among it
            if not key[1] and len(sides) == 1:
                key = (cas.role, sides.pop())  # the same side's dead, now more of them
            inc.tolls = {k: v for k, v in inc.tolls.items() if k[0] != cas.role}
            inc.extra = [e for e in inc.extra if e.role != cas.role]
            inc.tolls[key] = cas
        elif old is None:
            inc.tolls[key] = cas
        elif old.clause == cas.clause or cas.more:
            # same clause, same side: separate counts ("3 في … و2 في …"); or more of them
            # ("وقتل 3 مدنيين آخرين")
            inc.extra.append(cas)
        elif (rising or cas.value > old.value) and not (
            # "ليبلغ 227 قتيلاً …، إضافة إلى عشرات الجثث": a round "tens" replaces no count
            cas.q.qualifier == "vague" and old.q.qualifier != "vague"
        ):
            inc.tolls[key] = cas  # a rising or retold toll: the current figure
        inc.evidence_clauses.append(cas.clause)


def _replace_rounded(inc: Assembled, casualties: list[Casualty]) -> None:
    """A precise breakdown replaces a rounded figure of the same dead
    ("أكثر من 40 قتيلاً" then "القتلى هم 18 … و23 …")."""
    for role in ("killed", "injured"):
        new = [c for c in casualties if c.role == role]
        old = inc.figures(role)
        if (
            len(new) < 2
            or len(old) != 1
            or old[0].q.qualifier not in ("approx", "more_than", "at_least", "vague")
        ):
            continue
        total = sum(c.value for c in new)
        if 0.8 * old[0].value <= total <= 1.25 * old[0].value:
            inc.tolls = {k: v for k, v in inc.tolls.items() if v is not old[0]}
            inc.extra = [e for e in inc.extra if e is not old[0]]


def _merge(doc: Document, inc: Assembled, c: Candidate, *, adopt_place: bool) -> None:
    inc.clauses.extend(c.clauses)
    if adopt_place or not inc.places:
        inc.places.extend(c.places)
    if c.casualties or any(doc.actors[i].role for i in c.actors):
        # a bare follow-up sentence adds no parties, nor a clause about a habit ("اتهم
        # ناشطون خلايا مرتبطة بالنظام بالوقوف وراء التفجيرات المتكررة")
        inc.actors.extend(i for i in c.actors if not _in_habit(doc, c, doc.actors[i].start))
    inc.events.update(c.events)
    inc.date = inc.date or c.date
    inc.generic = inc.generic and c.generic
    inc.zero = (inc.zero[0] or c.zero[0], inc.zero[1] or c.zero[1])
    _add_tolls(doc, inc, c.casualties, rising=c.rising)


def _in_habit(doc: Document, c: Candidate, pos: int) -> bool:
    """Whether ``pos`` lies in a clause of ``c`` that tells a habit, not an event."""
    ci = doc.clause_of(pos)
    clause = doc.clauses[ci]
    return ci in c.clauses and doc.has_cue("generic", clause.start, clause.end)


def _compatible(doc: Document, inc: Assembled, c: Candidate, *, placeless: bool = False) -> bool:
    for x in c.casualties:
        so_far = inc.total(x.role)
        if x.rising and not x.actor and so_far and x.value < so_far:
            # "ارتفع عدد الشهداء في أريحا إلى ستة" after "… في إدلب وريفها إلى 11": a risen
            # toll below the current one counts another place's dead, not this incident's
            return False
    a, b = _attackers(doc, inc.actors), _attackers(doc, c.actors)
    struck_back = bool(c.casualties) and {x.actor for x in c.casualties} <= a
    if a and b and not (a & b) and not (placeless and struck_back):
        # "وأضاف أن قوات الأمن تمكنت من قتل 5 من عناصر داعش": the attacked side striking
        # back at the attackers of the incident just told is the same clash
        return False
    if placeless:
        return True  # "في هذه الاشتباكات …", "وكانت الحصيلة الأولية …": the same event
    if inc.date and c.date and abs((inc.date - c.date).days) > 1:
        return False  # the same village attacked again on another day
    return not (inc.has_toll() and c.casualties and not c.rising and not _same_tolls(inc, c))


def _same_tolls(inc: Assembled, c: Candidate) -> bool:
    return all(
        (cas.role, cas.actor or "") in inc.tolls
        and inc.tolls[(cas.role, cas.actor or "")].value == cas.value
        for cas in c.casualties
    )


def _shares_place(inc: Assembled, c: Candidate) -> bool:
    mine = inc.specific_places()
    theirs = {p.place.name_en for p in c.places if p.place.rank <= SPECIFIC_RANK}
    if mine and theirs:
        return bool(mine & theirs)
    if not mine and not theirs:
        return bool(inc.admin1s() & {p.place.admin1 for p in c.places if p.place.admin1})
    return False


def assemble(doc: Document, candidates: list[Candidate]) -> list[Assembled]:
    incidents: list[Assembled] = []
    for c in candidates:
        open_ones = [i for i in incidents if not i.aside and not i.background]
        if (
            c.casualties
            and all(x.alternative or x.earlier for x in c.casualties)
            and not (c.aside or c.background or c.new_event)
        ):
            # "في المقابل، نقلت رويترز … وقتلوا 9 جنود": another source on the dead of the
            # incident just told, not a further incident
            told = next(
                (
                    i
                    for i in reversed(open_ones)
                    if i.has_toll() and _compatible(doc, i, c, placeless=True)
                ),
                None,
            )
            if told is not None:
                _merge(doc, told, c, adopt_place=False)
                continue
        if c.new_event:
            incidents.append(_new(doc, c))  # "وفي اليوم التالي، هاجم مسلحون …": another event
            continue
        if c.aside or c.background:
            if not c.places and incidents:
                # "وكانت البلدة ذاتها قد شهدت …": the place told just before
                c.places = list(incidents[-1].places)
            incidents.append(_new(doc, c))
            continue
        target: Assembled | None = None
        if not c.places or c.anaphoric:
            target = next(
                (i for i in reversed(open_ones) if _compatible(doc, i, c, placeless=True)), None
            )
            if target is None and open_ones and not c.casualties:
                target = open_ones[-1]
        else:
            target = next(
                (i for i in reversed(open_ones) if _shares_place(i, c) and _compatible(doc, i, c)),
                None,
            )
            if target is None and not c.casualties and _only_broad(c):
                # "وشنت الطائرات 14 غارة على ريف إدلب": no toll and only the wider area of
                # an incident told just before: more about it, not a new incident
                target = next(
                    (
                        i
                        for i in reversed(open_ones)
                        if i.has_toll()
                        and i.admin1s() & {p.place.admin1 for p in c.places}
                        and _compatible(doc, i, c)
                    ),
                    None,
                )
        if target is None:
            incidents.append(_new(doc, c))
        else:
            _merge(doc, target, c, adopt_place=not c.anaphoric)
    for inc in incidents:
        _drop_restatements(inc)
    return [i for i in incidents if _keep(i)]


def _only_broad(c: Candidate) -> bool:
    return all(p.place.rank > SPECIFIC_RANK for p in c.places)


def _drop_restatements(inc: Assembled) -> None:
    """A figure equal to the sum of two or more others of the incident restates them
    ("مقتل 12 … ومقتل 8 …، ليرتفع إلى 20"; "قتل شخصان … استشهاد رجل وامرأة")."""
    for role in ("killed", "injured"):
        figures = inc.figures(role)
        if len(figures) < 3:
            continue
        for cas in figures:
            rest = [f for f in figures if f is not cas]
            if sum(f.value for f in rest) == cas.value:
                inc.tolls = {k: v for k, v in inc.tolls.items() if v is not cas}
                inc.extra = [e for e in inc.extra if e is not cas]
                inc.set_aside.append((cas, "restatement"))
                break


def _keep(inc: Assembled) -> bool:
    has_figure = any(inc.total(r) for r in ("killed", "injured", "executed", "captured"))
    if inc.background and not has_figure:
        return False
    if inc.generic and not inc.has_toll():
        return False
    if not inc.places and not inc.has_toll():
        return False
    return not (len(inc.admin1s()) >= 3 and not inc.has_toll())


def qualifier(inc: Assembled, role: str) -> str | None:
    found = [c.q.qualifier for (r, _), c in inc.tolls.items() if r == role and c.q.qualifier]
    found += [c.q.qualifier for c in inc.extra if c.role == role and c.q.qualifier]
    if not found:
        return "exact" if inc.total(role) is not None else None
    return max(found, key=lambda q: _QUALIFIER_WEIGHT.get(q, 0))


def choose_place(inc: Assembled) -> PlaceMention | None:
    return most_specific(inc.places)
