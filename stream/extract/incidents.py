"""From casualties, actors, places and dates to incidents and tallies: the coder's reading.

Order of decisions, each a general rule:

1. Clauses that speak of a period ("منذ الـ 22 من أيار", "خلال خمس سنوات", "بلغت حصيلة",
   "وبذلك يرتفع") are tallies, and so is the rest of their sentence; "الفترة ذاتها" makes
   the whole sentence one.  A tally colours the following sentences until one names a
   specific place or a date ("كما وثق المرصد … 4 مدنيين …" goes on counting).
   "منذ فجر أمس" opens a continuing battle, not a period.
2. A sentence is one candidate event, split where a different event is brought in
   ("بعد يوم من مقتل …", "هجوم مماثل", "سبق ذلك مجزرة").
3. Candidates merge into the incident they continue: a candidate without a place joins the
   one before it ("في هذه الاشتباكات … ارتفع إلى 41"); one with a place joins an incident
   sharing a specific place whose attacker does not contradict it.
4. Rising tolls replace, retold tolls are counted once, each side's dead add up.
5. Recalled events (background) are kept only when they carry a figure; a candidate whose
   toll is the sum of other incidents ("8 قتلى" = 4 + 4) is not another incident.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import combinations

from stream.extract.casualties import Casualty
from stream.extract.document import Document
from stream.extract.lexicon import Lexicon, prefix_forms
from stream.extract.normalize import norm
from stream.extract.places import PlaceMention, most_specific
from stream.extract.segment import Clause, opens_distribution

SPECIFIC_RANK = 3  # district or finer
#: hours per unit, for "منذ N ساعات/أيام"
_SHORT_UNITS = {"ساعه": 1, "ساعات": 1, "ساعه،": 1, "يوم": 24, "ايام": 24, "يوما": 24}
_QUALIFIER_WEIGHT = {"vague": 4, "approx": 3, "more_than": 2, "at_least": 1}


@dataclass
class Candidate:
    sentence: int
    clauses: list[int]
    places: list[PlaceMention]
    casualties: list[Casualty]
    actors: list[int]  # indices into doc.actors
    date: date | None
    events: Counter[str]
    background: bool = False
    aside: bool = False
    generic: bool = False
    rising: bool = False
    zero: tuple[bool, bool] = (False, False)  # said: nobody killed / nobody injured
    anaphoric: bool = False  # only definite single-event words ("العبوة", "الاعتداء"): told before


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

    def specific_places(self) -> set[str]:
        """Specific places named, bearings included ("غربي البوكمال" still names the area)."""
        return {p.place.name_en for p in self.places if p.place.rank <= SPECIFIC_RANK}

    def admin1s(self) -> set[str]:
        return {p.place.admin1 for p in self.places if p.place.admin1}

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


@dataclass(frozen=True)
class TallyFigure:
    casualty: Casualty
    since: date | None
    clause: int


# ---------------------------------------------------------------- clause classification


def _since_is_recent(doc: Document, pos: int, lex: Lexicon) -> tuple[bool, date | None]:
    """After "منذ" at token ``pos``: does the period start recently (a continuing battle)?"""
    words = doc.words
    window = words[pos + 1 : pos + 5]
    recent_word = any(set(prefix_forms(w)) & lex.recent_since for w in window)
    q = next(iter(doc.within(doc.quantities, pos + 1, pos + 3)), None)
    if q is not None and q.end < len(words) and words[q.end] in _SHORT_UNITS:
        # "منذ 3 أيام", "منذ 48 ساعة": a battle still going on
        return q.value * _SHORT_UNITS[words[q.end]] <= 72, None
    if doc.within(doc.cues["single_event"], pos + 1, pos + 4):
        return True, None  # "منذ بدء الهجوم": since this attack began
    start = next(iter(doc.within(doc.dates, pos + 1, pos + 6)), None)
    start_value = start.value if start else None
    if recent_word:
        return True, start_value
    if start_value is not None and doc.anchor is not None:
        return start_value >= doc.anchor - timedelta(days=3), start_value
    return False, start_value


def _period_after_during(doc: Document, c: Clause, lex: Lexicon) -> bool:
    """ "خلال خمس سنوات", "خلال 3 أشهر": a period of weeks or more."""
    words = doc.words
    for q in doc.within(doc.quantities, c.start, c.end):
        during = q.start > 0 and words[q.start - 1] in ("خلال", "طيله", "مدار")
        if during and q.end < len(words) and words[q.end] in lex.period_units:
            return True
    return False


_DUAL_PERIODS = frozenset(norm(w) for w in ("شهرين", "أسبوعين", "عامين", "سنتين"))
_ELAPSED_LINKS = frozenset(norm(w) for w in ("على", "من"))


def _elapsed_recall(doc: Document, c: Clause, lex: Lexicon) -> bool:
    """ "بعد نحو شهر على تفجير مماثل", "بعد أسبوعين من هجوم": weeks have passed since the
    event this clause names, so it is a recalled one, not today's."""
    words = doc.words
    for k in range(c.start, c.end - 2):
        if "بعد" not in prefix_forms(words[k]):
            continue
        for j in range(k + 1, min(k + 4, c.end - 1)):
            w = words[j]
            if w in lex.period_units or w in _DUAL_PERIODS:
                return words[j + 1] in _ELAPSED_LINKS
    return False


_AGO_UNITS = frozenset(
    norm(w)
    for w in (
        "أيام",
        "يومين",
        "أسبوع",
        "أسبوعين",
        "أسابيع",
        "شهر",
        "شهرين",
        "أشهر",
        "عام",
        "عامين",
        "سنة",
        "أعوام",
        "سنوات",
    )
)


def _ago(doc: Document, c: Clause) -> bool:
    """ "قبل أسبوع", "قبل نحو شهرين": a time well before today."""
    words = doc.words
    for k in range(c.start, c.end - 1):
        if "قبل" in prefix_forms(words[k]) and any(
            w in _AGO_UNITS for w in words[k + 1 : min(k + 4, c.end)]
        ):
            return True
    return False


def _compared_since(doc: Document, start: int, end: int) -> set[int]:
    """Positions of "منذ" that close a comparison ("أعنف قصف … منذ عام 2020"), not a period."""
    return {
        m.start
        for m in doc.within(doc.cues["since"], start, end)
        if doc.within(doc.cues["superlatives"], m.start - 5, m.start)
    }


def clause_is_tally(doc: Document, ci: int, lex: Lexicon) -> tuple[bool, date | None]:
    c = doc.clauses[ci]
    since_date: date | None = None
    tally = False
    compared: set[int] = set()
    for m in doc.within(doc.cues["since"], c.start, c.end):
        if doc.within(doc.cues["superlatives"], m.start - 5, m.start):
            compared.add(m.start)
            continue  # "الهجوم الأعنف منذ أشهر", "أعنف قصف … منذ عام 2020": a comparison
        recent, start = _since_is_recent(doc, m.start, lex)
        since_date = start
        if not recent:
            tally = True
    single = doc.has_cue("single_event", c.start, c.end)
    today = any(d.kind in ("relative", "weekday") for d in doc.within(doc.dates, c.start, c.end))
    cumulative = doc.has_cue("cumulative", c.start, c.end) and not today
    period_phrase = any(
        m.start not in compared for m in doc.within(doc.cues["tally"], c.start, c.end)
    )
    if (period_phrase or cumulative) and not single:
        tally = True
        if since_date is None:
            since_date = next(
                (d.value for d in doc.within(doc.dates, c.start, c.end) if d.value), None
            )
    if _period_after_during(doc, c, lex):
        tally = True
    return tally, since_date


# ---------------------------------------------------------------- candidates


def _event_counts(doc: Document, clauses: list[int]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for ci in clauses:
        c = doc.clauses[ci]
        for m in doc.within(doc.events, c.start, c.end):
            counts[m.value] += 1
    return counts


def _group_clauses(doc: Document, clause_ids: list[int], counted: set[int]) -> list[list[int]]:
    """Split a sentence's clauses where a different event is brought in: an aside
    ("بعد يوم من …", "هجوم مماثل"), or a new toll in another governorate
    ("قتل راعٍ … في بادية الرقة، فيما قتل عنصران … في بلدة ذيبان")."""
    groups: list[list[int]] = []
    for ci in clause_ids:
        c = doc.clauses[ci]
        if (
            not groups
            or doc.has_cue("aside", c.start, c.end)
            or (c.start > 0 and opens_distribution(doc.words, c.start, c.end))
            or _new_toll_elsewhere(doc, groups[-1], ci, counted)
        ):
            groups.append([ci])
        else:
            groups[-1].append(ci)
    return groups


def _new_toll_elsewhere(doc: Document, group: list[int], ci: int, counted: set[int]) -> bool:
    """A further toll told with its own place: another governorate, or another specific
    place with its own event word ("…، بينما قتل 3 عناصر بقصف … في بلدة كفرنبل")."""
    if ci not in counted or not any(g in counted for g in group):
        return False
    c = doc.clauses[ci]
    here_places = doc.within(doc.places, c.start, c.end)
    before_places = [
        p for g in group for p in doc.within(doc.places, doc.clauses[g].start, doc.clauses[g].end)
    ]
    here = {p.place.admin1 for p in here_places if p.place.admin1}
    before = {p.place.admin1 for p in before_places if p.place.admin1}
    if here and before and not (here & before):
        return True
    here_specific = {p.place.name_en for p in here_places if p.rank <= SPECIFIC_RANK}
    before_specific = {p.place.name_en for p in before_places if p.rank <= SPECIFIC_RANK}
    own_event = any(
        m.value not in ("killing", "none") for m in doc.within(doc.events, c.start, c.end)
    )
    return (
        own_event
        and bool(here_specific)
        and bool(before_specific)
        and not (here_specific & before_specific)
    )


def _conflict_signal(
    doc: Document, events: Counter[str], actors: list[int], start: int, end: int
) -> bool:
    """An armed event word, or an armed party named in the sentence."""
    if any(v for k, v in events.items() if k not in ("killing", "none")):
        return True
    armed = {"CIVILIANS", "UNKNOWN"}
    return any(doc.actors[i].code not in armed for i in actors) or any(
        a.code not in armed for a in doc.within(doc.actors, start, end)
    )


def _claim(doc: Document, spans: list[Clause], actors: list[int], cas: list[Casualty]) -> bool:
    """ "وتبنى تنظيم داعش العملية": no event word of its own, only an attacker and the
    event told before ("العملية", "الهجوم"): it names who did that event."""
    if cas or doc.within(doc.events, spans[0].start, spans[-1].end):
        return False
    single = any(doc.has_cue("single_event", c.start, c.end) for c in spans)
    return single and any(doc.actors[i].role == "attacker" for i in actors)


def _anaphoric(doc: Document, spans: list[Clause]) -> bool:
    """All event words are definite single-event nouns ("العبوة", "الاعتداء", "القصف")."""
    found = [m for c in spans for m in doc.within(doc.events, c.start, c.end) if m.value != "none"]
    if not found:
        return False
    single = [m for c in spans for m in doc.within(doc.cues["single_event"], c.start, c.end)]
    return all(any(s.start <= m.start < s.end for s in single) for m in found)


def _zero(
    doc: Document, spans: list[Clause], cas: list[Casualty], lex: Lexicon
) -> tuple[bool, bool]:
    """ "لم يسفر عن وقوع حالات وفاة": killed is 0; "دون وقوع إصابات": injured too."""
    killed = injured = any(doc.has_cue("no_casualties", c.start, c.end) for c in spans)
    for c in spans:
        words = doc.words[c.start : c.end]
        for neg in lex.no_casualty_negations.find_all(words):
            before = set(prefix_forms(words[neg.start - 1])) if neg.start > 0 else set()
            if before & lex.no_casualty_blockers:
                continue  # "للحيلولة دون وقوع خسائر": preventing, not reporting none
            for k in range(neg.end, min(neg.end + 6, len(words))):
                if set(prefix_forms(words[k])) & lex.no_casualty_blockers:
                    break
                noun = lex.no_casualty_nouns.match_at(words, k)
                if noun is not None:
                    killed = True
                    injured = injured or "اصابات" in noun.entry or "إصابات" in noun.entry
                    break
    has_killed = any(x.role in ("killed", "executed") for x in cas)
    has_injured = any(x.role == "injured" for x in cas)
    return killed and not has_killed, injured and not has_injured


def _old(d: date | None, anchor: date | None, days: int) -> bool:
    return d is not None and anchor is not None and d < anchor - timedelta(days=days)


def _is_boilerplate(doc: Document, start: int, end: int, lex: Lexicon) -> bool:
    head = " ".join(doc.words[start : min(end, start + 4)])
    return any(head.startswith(b) for b in lex.boilerplate)


@dataclass
class _SentenceReading:
    candidates: list[Candidate]
    tallies: list[TallyFigure]
    had_tally: bool


def read_sentence(
    doc: Document,
    s_index: int,
    clause_ids: list[int],
    casualties: list[Casualty],
    in_tally: bool,
    lex: Lexicon,
) -> _SentenceReading:
    s = doc.sentences[s_index]
    if _is_boilerplate(doc, s.start, s.end, lex):
        return _SentenceReading([], [], False)

    # 1. tally clauses (forward from the first one; the whole sentence on "الفترة ذاتها")
    tally_flags: dict[int, bool] = {}
    period: dict[int, bool] = {}
    since: date | None = None
    on = doc.has_cue("tally_continuation", s.start, s.end)
    counted = {cas.clause for cas in casualties if cas.role in ("killed", "injured", "executed")}
    for ci in clause_ids:
        is_tally, since_here = clause_is_tally(doc, ci, lex)
        period[ci] = is_tally
        if is_tally and ci in counted:
            on = True  # a period with a figure: a tally, and so is the rest of the sentence
            since = since or since_here
        tally_flags[ci] = on and ci in counted
    sentence_places = doc.within(doc.places, s.start, s.end)
    sentence_dates = [d for d in doc.within(doc.dates, s.start, s.end) if d.kind != "year"]
    has_specific = any(p.rank <= SPECIFIC_RANK for p in sentence_places) and (
        len({p.place.admin1 for p in sentence_places}) < 3
    )
    if in_tally and not has_specific and not sentence_dates:
        tally_flags = dict.fromkeys(clause_ids, True)
    had_tally = any(tally_flags.values())

    tallies = [
        TallyFigure(cas, since, cas.clause)
        for cas in casualties
        if tally_flags.get(cas.clause)
        and not cas.part
        and cas.role in ("killed", "injured", "executed")
    ]
    live = [ci for ci in clause_ids if not tally_flags[ci]]
    if not live:
        return _SentenceReading([], tallies, had_tally)

    # 2. candidate events
    pluperfect = any(
        m.start <= s.start + 1 for m in doc.within(doc.cues["pluperfect"], s.start, s.end)
    )
    generic = doc.has_cue("generic", s.start, s.end)
    candidates: list[Candidate] = []
    mains = {cas.clause for cas in casualties if not cas.part and cas.role != "captured"}
    groups = _group_clauses(doc, live, mains)
    for group in groups:
        spans = [doc.clauses[ci] for ci in group]
        # places told with another group's own toll are that group's ("…: 6 في الباب")
        elsewhere = {ci for g in groups if g is not group for ci in g if ci in mains}
        places = [
            p
            for ci, c in zip(group, spans, strict=True)
            if not period[ci]
            for p in doc.within(doc.places, c.start, c.end)
        ]
        if not places:
            places = [
                p
                for p in sentence_places
                if not period.get(doc.clause_of(p.start), True)
                and not tally_flags.get(doc.clause_of(p.start), True)
                and doc.clause_of(p.start) not in elsewhere
            ]
        cas = [x for x in casualties if x.clause in group and not x.part]
        actors = [
            i for i, a in enumerate(doc.actors) if any(c.start <= a.start < c.end for c in spans)
        ]
        compared = {p for c in spans for p in _compared_since(doc, c.start, c.end)}
        dates = [
            d
            for ci, c in zip(group, spans, strict=True)
            if not period[ci]
            for d in doc.within(doc.dates, c.start, c.end)
            if d.value and not any(p < d.start <= p + 3 for p in compared)
        ]
        when = dates[0].value if dates else None
        explicit_old = any(
            d.kind in ("absolute", "month", "year") and _old(d.value, doc.anchor, 7) for d in dates
        )
        background = (
            any(doc.has_cue("background", c.start, c.end) for c in spans)
            or any(_elapsed_recall(doc, c, lex) for c in spans)
            or explicit_old
            or (pluperfect and (_old(when, doc.anchor, 2) or any(_ago(doc, c) for c in spans)))
        )
        events = _event_counts(doc, group)
        events.pop("none", None)
        claim = _claim(doc, spans, actors, cas)
        if not claim:
            if not events and not cas:
                continue
            if not cas and not any(v for k, v in events.items() if k != "killing"):
                continue
            signal = events or _event_counts(doc, clause_ids)  # the sentence's event words
            if not _conflict_signal(doc, signal, actors, s.start, s.end):
                continue  # deaths in an earthquake or a road accident are not conflict events
        candidates.append(
            Candidate(
                zero=_zero(doc, spans, cas, lex),
                sentence=s_index,
                clauses=group,
                places=places,
                casualties=cas,
                actors=actors,
                date=when,
                events=events,
                background=background,
                aside=any(doc.has_cue("aside", c.start, c.end) for c in spans),
                generic=generic,
                rising=any(doc.has_cue("rising", c.start, c.end) for c in spans),
                anaphoric=not cas and (claim or _anaphoric(doc, spans)),
            )
        )
    sentence_attackers = [
        i
        for i, a in enumerate(doc.actors)
        if a.role == "attacker"
        and s.start <= a.start < s.end
        and not tally_flags[doc.clause_of(a.start)]
    ]
    for cand in candidates:
        if not any(v for k, v in cand.events.items() if k != "killing"):
            # tolls with no event word of their own take the sentence's event words
            cand.events = _event_counts(doc, clause_ids)
        if not any(doc.actors[i].role == "attacker" for i in cand.actors):
            # "غارات نفذتها طائرات التحالف …، كما سبق ذلك مجزرة …": the attacker told before
            first = doc.clauses[cand.clauses[0]].start
            cand.actors.extend(
                i
                for i in sentence_attackers
                if i not in cand.actors and doc.actors[i].start < first
            )
    return _SentenceReading(candidates, tallies, had_tally)


# ---------------------------------------------------------------- merging


def _attackers(doc: Document, actor_ids: list[int]) -> set[str]:
    return {doc.actors[i].code for i in actor_ids if doc.actors[i].role == "attacker"}


def _new(c: Candidate) -> Assembled:
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
    _add_tolls(inc, c.casualties, rising=c.rising)
    return inc


def _add_tolls(inc: Assembled, casualties: list[Casualty], *, rising: bool) -> None:
    _replace_rounded(inc, casualties)
    for cas in casualties:
        key = (cas.role, cas.actor or "")
        old = inc.tolls.get(key)
        so_far = inc.total(cas.role)
        sides = {k[1] for k in inc.tolls if k[0] == cas.role}
        sides |= {e.actor or "" for e in inc.extra if e.role == cas.role}
        one_side = not key[1] or sides <= {"", key[1]}
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
        elif old.clause == cas.clause:
            # same clause, same side: separate counts ("3 في … و2 في …")
            inc.extra.append(cas)
        elif rising or cas.value > old.value:
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
        inc.actors.extend(c.actors)  # a bare follow-up sentence adds no parties
    inc.events.update(c.events)
    inc.date = inc.date or c.date
    inc.generic = inc.generic and c.generic
    inc.zero = (inc.zero[0] or c.zero[0], inc.zero[1] or c.zero[1])
    _add_tolls(inc, c.casualties, rising=c.rising)


def _compatible(doc: Document, inc: Assembled, c: Candidate, *, placeless: bool = False) -> bool:
    a, b = _attackers(doc, inc.actors), _attackers(doc, c.actors)
    if a and b and not (a & b):
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
        if c.aside or c.background:
            if not c.places and incidents:
                # "وكانت البلدة ذاتها قد شهدت …": the place told just before
                c.places = list(incidents[-1].places)
            incidents.append(_new(c))
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
            incidents.append(_new(c))
        else:
            _merge(doc, target, c, adopt_place=not c.anaphoric)
    for inc in incidents:
        _drop_restatements(inc)
    return [i for i in incidents if _keep(i)]


def _only_broad(c: Candidate) -> bool:
    return all(p.place.rank > SPECIFIC_RANK for p in c.places)


def _drop_restatements(inc: Assembled) -> None:
    """A figure equal to the sum of two or more others of the incident restates them
    ("مقتل 12 … ومقتل 8 …، ليرتفع إلى 20")."""
    for role in ("killed", "injured"):
        figures = inc.figures(role)
        if len(figures) < 3:
            continue
        for cas in figures:
            rest = [f.value for f in figures if f is not cas]
            if sum(rest) == cas.value:
                inc.tolls = {k: v for k, v in inc.tolls.items() if v is not cas}
                inc.extra = [e for e in inc.extra if e is not cas]
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


def drop_sums(incidents: list[Assembled]) -> list[Assembled]:
    """A toll equal to the sum of two or more other incidents' tolls retells them."""
    live = [i for i in incidents if not i.background]
    drop: set[int] = set()
    for inc in live:
        total = inc.total("killed")
        if total is None or (inc.specific_places() and len(inc.admin1s()) < 2):
            continue
        others = [o.total("killed") for o in live if o is not inc and id(o) not in drop]
        values = [v for v in others if v]
        found = any(
            sum(combo) == total
            for size in range(2, min(len(values), 4) + 1)
            for combo in combinations(values, size)
        )
        if found:
            drop.add(id(inc))
    return [i for i in incidents if id(i) not in drop]


def qualifier(inc: Assembled, role: str) -> str | None:
    found = [c.q.qualifier for (r, _), c in inc.tolls.items() if r == role and c.q.qualifier]
    found += [c.q.qualifier for c in inc.extra if c.role == role and c.q.qualifier]
    if not found:
        return "exact" if inc.total(role) is not None else None
    return max(found, key=lambda q: _QUALIFIER_WEIGHT.get(q, 0))


def choose_place(inc: Assembled) -> PlaceMention | None:
    return most_specific(inc.places)
