"""One sentence read as the coder reads it: which of its figures are tallies, which events it tells.

Order of decisions, each a general rule:

1. Clauses that speak of a period (:mod:`stream.extract.periods`) are tallies, and so is the
   rest of their sentence; "الفترة ذاتها" makes the whole sentence one. A tally colours the
   following sentences until one names a specific place or a date ("كما وثق المرصد … 4
   مدنيين …" goes on counting).
2. A sentence is one candidate event, split where a different event is brought in
   ("بعد يوم من مقتل …", "هجوم مماثل", "سبق ذلك مجزرة") or a new toll is told elsewhere.
3. A candidate is background when the text recalls it (cue words, an old date, a pluperfect
   opener with an earlier date), generic when it describes a habit, not an event.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from stream.extract.casualties import Casualty
from stream.extract.document import Document
from stream.extract.lexicon import Lexicon, prefix_forms
from stream.extract.periods import (
    ago,
    clause_is_tally,
    compared_since,
    elapsed_recall,
    old,
)
from stream.extract.places import PlaceMention
from stream.extract.segment import Clause, opens_distribution

SPECIFIC_RANK = 3  # district or finer
#: event words that make no candidate of a sentence without a toll: a killing is told by its
#: toll, and plural bombings alone are as often a list of habits as an event
UNTOLD = ("killing", "blasts")
#: an event dated explicitly more than this many days before the report is recalled, not news
RECALL_DAYS = 3


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
    new_event: bool = False  # "وفي اليوم التالي …": another event, which later sentences may go on


@dataclass(frozen=True)
class TallyFigure:
    casualty: Casualty
    since: date | None
    clause: int


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
    ("قتل راعٍ … في بادية الرقة، فيما قتل عنصران … في بلدة ذيبان"), or a toll over several
    events ("فيما قتل 3 مدنيين في هجومين منفصلين")."""
    groups: list[list[int]] = []
    for ci in clause_ids:
        c = doc.clauses[ci]
        if (
            not groups
            or doc.has_cue("aside", c.start, c.end)
            or (c.start > 0 and opens_distribution(doc.words, c.start, c.end))
            or _new_toll_elsewhere(doc, groups[-1], ci, counted)
            or (ci in counted and doc.has_cue("several_events", c.start, c.end))
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
    """An armed event word, or an armed party named in the sentence (police named in a
    road accident report are not one)."""
    if any(v for k, v in events.items() if k not in ("killing", "none")):
        return True
    armed = {"CIVILIANS", "UNKNOWN"}
    return any(
        doc.actors[i].code not in armed and not doc.actors[i].generic for i in actors
    ) or any(a.code not in armed and not a.generic for a in doc.within(doc.actors, start, end))


def _claim(doc: Document, spans: list[Clause], actors: list[int], cas: list[Casualty]) -> bool:
    """ "وتبنى تنظيم داعش العملية": no event word of its own, only an attacker and the
    event told before ("العملية", "الهجوم"): it names who did that event."""
    if cas or doc.within(doc.events, spans[0].start, spans[-1].end):
        return False
    single = any(doc.has_cue("single_event", c.start, c.end) for c in spans)
    return single and any(doc.actors[i].role == "attacker" for i in actors)


def _refers_back(doc: Document, ci: int) -> bool:
    """The clause opens with "وذلك"/"ذلك": it qualifies what the sentence said before it."""
    c = doc.clauses[ci]
    return any(w in ("وذلك", "ذلك") for w in doc.words[c.start : min(c.start + 2, c.end)])


def _own_time_or_place(doc: Document, ci: int) -> bool:
    """The clause names a specific place or a day of its own."""
    c = doc.clauses[ci]
    places = doc.within(doc.places, c.start, c.end)
    days = [d for d in doc.within(doc.dates, c.start, c.end) if d.kind != "year"]
    return bool(days) or any(p.rank <= SPECIFIC_RANK for p in places)


def _several(doc: Document, spans: list[Clause]) -> bool:
    """ "في هجومين منفصلين", "في حوادث متفرقة": the figure is told over several events."""
    return any(doc.has_cue("several_events", c.start, c.end) for c in spans)


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
    after_event: bool = False,
) -> _SentenceReading:
    """``after_event``: an armed event was told before, so a toll with no event word of its
    own ("إذ تشير حصيلة أولية إلى سبعة قتلى") goes on telling it."""
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
    for back in [ci for ci in clause_ids if period[ci] and _refers_back(doc, ci)]:
        # "مقتل 13 من عناصرهما، …، وذلك منذ انعقاد قمة طهران": a period told right after the
        # figure and pointing back at it ("وذلك") counts it too, when the figure's clause names
        # no specific place and no day
        for ci in (back - 1, back - 2):
            if ci in tally_flags and ci in counted and not _own_time_or_place(doc, ci):
                tally_flags[ci] = True
    sentence_places = doc.within(doc.places, s.start, s.end)
    sentence_dates = [d for d in doc.within(doc.dates, s.start, s.end) if d.kind != "year"]
    has_specific = any(p.rank <= SPECIFIC_RANK for p in sentence_places) and (
        len({p.place.admin1 for p in sentence_places}) < 3
    )
    if in_tally and not has_specific and not sentence_dates:
        # the sentence goes on counting the period, except a risen toll ("بدوره أفاد المصدر
        # بأن عدد القتلى ارتفع إلى ستة"), which is an incident's current figure
        tally_flags = {
            ci: not doc.has_cue("rising", doc.clauses[ci].start, doc.clauses[ci].end)
            or period.get(ci, False)
            for ci in clause_ids
        }
    # a period told with a count of strikes but no casualty figure ("استهدفت … 109 مرات منذ
    # بدء الحرب") still colours the sentences after it ("وأضاف أن تلك الضربات تسببت بمقتل
    # 287 عسكرياً"), and so does a report's period ("إحصائيتها لشهر نيسان"); a period in
    # passing ("بؤرة للتنظيم منذ سنوات") does not
    counts_something = bool(doc.within(doc.quantities, s.start, s.end)) or doc.has_cue(
        "period_report", s.start, s.end
    )
    had_tally = any(tally_flags.values()) or (any(period.values()) and counts_something)

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
        if not cas:
            # a settlement the gazetteer lacks separates tolls told in two villages; a
            # sentence with no toll of its own ("وانفجرت العبوة في قرية الإمام") goes on
            # telling the incident before it
            places = [p for p in places if p.place.listed]
        actors = [
            i for i, a in enumerate(doc.actors) if any(c.start <= a.start < c.end for c in spans)
        ]
        compared = {p for c in spans for p in compared_since(doc, c.start, c.end)}
        dates = [
            d
            for ci, c in zip(group, spans, strict=True)
            if not period[ci]
            for d in doc.within(doc.dates, c.start, c.end)
            if d.value and not any(p < d.start <= p + 3 for p in compared)
        ]
        # the earliest day told with it ("رفع اليوم الجمعة حصيلة غارات الأربعاء"); a month or
        # a year alone ("كانون الثاني 2024") is no day, unless nothing finer is told
        days = [d.value for d in dates if d.value and d.kind not in ("month", "year")]
        when = min(days) if days else (dates[0].value if dates else None)
        explicit_old = any(
            d.kind in ("absolute", "month", "year") and old(d.value, doc.anchor, RECALL_DAYS)
            for d in dates
        )
        # "أعنف هجوم منذ مطلع العام الماضي": the year of a comparison recalls nothing
        recalled = [
            m
            for c in spans
            for m in doc.within(doc.cues["background"], c.start, c.end)
            if not any(p < m.start <= p + 4 for p in compared)
            and not _earlier_report(doc, m.start, c.start)
        ]
        background = (
            bool(recalled)
            or any(elapsed_recall(doc, c, lex) for c in spans)
            or explicit_old
            or (pluperfect and (old(when, doc.anchor, 2) or any(ago(doc, c, lex) for c in spans)))
        )
        events = _event_counts(doc, group)
        events.pop("none", None)
        claim = _claim(doc, spans, actors, cas)
        if not claim:
            if not events and not cas:
                if any(_zero(doc, spans, cas, lex)) and after_event:
                    # "وبيّن أن إحدى القذيفتين ارتطمت بسطح بيت، دون وقوع خسائر": no event
                    # word of its own, but it says the event told before killed nobody
                    candidates.append(
                        _candidate(
                            doc,
                            lex,
                            s_index,
                            group,
                            spans,
                            [],
                            [],
                            actors,
                            when,
                            events,
                            background,
                            generic,
                            True,
                        )
                    )
                continue
            if not cas and not any(v for k, v in events.items() if k not in UNTOLD):
                continue
            signal = events or _event_counts(doc, clause_ids)  # the sentence's event words
            placeless = not places
            if not _conflict_signal(doc, signal, actors, s.start, s.end) and not (
                after_event and cas and (placeless or any(x.rising for x in cas))
            ):
                continue  # deaths in an earthquake or a road accident are not conflict events
        for share_places, share_cas in _by_own_place(doc, places, cas):
            candidates.append(
                _candidate(
                    doc,
                    lex,
                    s_index,
                    group,
                    spans,
                    share_places,
                    share_cas,
                    actors,
                    when,
                    events,
                    background,
                    generic,
                    claim,
                )
            )
    sentence_attackers = [
        i
        for i, a in enumerate(doc.actors)
        if a.role == "attacker"
        and s.start <= a.start < s.end
        and not tally_flags[doc.clause_of(a.start)]
    ]
    return _attach_sentence_parties(
        doc, clause_ids, candidates, sentence_attackers, tallies, had_tally
    )


def _own_place(doc: Document, cas: Casualty) -> PlaceMention | None:
    """ "قتل 3 مدنيين في بلدة كفرنبل": the specific place told right after a count."""
    for p in doc.within(doc.places, cas.q.end, cas.q.end + 6):
        if p.rank <= SPECIFIC_RANK and not p.reference:
            between = doc.within(doc.quantities, cas.q.end, p.start)
            return None if between else p
    return None


def _by_own_place(
    doc: Document, places: list[PlaceMention], cas: list[Casualty]
) -> list[tuple[list[PlaceMention], list[Casualty]]]:
    """ "قتل 3 مدنيين في كفرنبل و2 في حزارين": counts each told with its own village are
    separate strikes (ACLED codes one event per place), not one toll to add up."""
    owned = [(c, _own_place(doc, c)) for c in cas]
    named = {p.place.name_en for _, p in owned if p is not None}
    if len(named) < 2 or any(p is None and c.role == "killed" for c, p in owned):
        return [(places, cas)]
    shares: list[tuple[list[PlaceMention], list[Casualty]]] = []
    for c, p in owned:
        if p is None:  # an injured count told without its own place joins the one before
            if shares:
                shares[-1][1].append(c)
            else:
                shares.append((places, [c]))
            continue
        if shares and shares[-1][0] and shares[-1][0][0].place.name_en == p.place.name_en:
            shares[-1][1].append(c)
        else:
            broader = [q for q in places if q.rank > SPECIFIC_RANK]
            shares.append(([p, *broader], [c]))
    return shares


def _candidate(
    doc: Document,
    lex: Lexicon,
    s_index: int,
    group: list[int],
    spans: list[Clause],
    places: list[PlaceMention],
    cas: list[Casualty],
    actors: list[int],
    when: date | None,
    events: Counter[str],
    background: bool,
    generic: bool,
    claim: bool,
) -> Candidate:
    return Candidate(
        zero=_zero(doc, spans, cas, lex),
        sentence=s_index,
        clauses=group,
        places=places,
        casualties=cas,
        actors=list(actors),
        date=when,
        events=Counter(events),
        background=background,
        aside=any(doc.has_cue("aside", c.start, c.end) for c in spans),
        new_event=any(doc.has_cue("next_day", c.start, c.end) for c in spans)
        or (bool(cas) and _several(doc, spans)),
        generic=generic,
        rising=any(doc.has_cue("rising", c.start, c.end) for c in spans),
        anaphoric=not cas and (claim or _anaphoric(doc, spans)),
    )


def _attach_sentence_parties(
    doc: Document,
    clause_ids: list[int],
    candidates: list[Candidate],
    sentence_attackers: list[int],
    tallies: list[TallyFigure],
    had_tally: bool,
) -> _SentenceReading:
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


def read_all(
    doc: Document, casualties: list[Casualty], lex: Lexicon
) -> tuple[list[Candidate], list[TallyFigure]]:
    """Every sentence in order; a tally colours the sentences after it until one names a
    specific place or a date."""
    candidates: list[Candidate] = []
    tallies: list[TallyFigure] = []
    in_tally = False
    by_sentence: dict[int, list[int]] = {}
    for i, si in enumerate(doc.clause_sentence):
        by_sentence.setdefault(si, []).append(i)
    cas_by_sentence: dict[int, list[Casualty]] = {}
    for cas in casualties:
        cas_by_sentence.setdefault(doc.clause_sentence[cas.clause], []).append(cas)
    for s in doc.sentences:
        clause_ids = by_sentence.get(s.index, [])
        mine = cas_by_sentence.get(s.index, [])
        reading = read_sentence(
            doc, s.index, clause_ids, mine, in_tally, lex, after_event=bool(candidates)
        )
        candidates.extend(reading.candidates)
        tallies.extend(reading.tallies)
        if reading.had_tally:
            in_tally = True
        elif any(
            c.date or any(p.place.rank <= SPECIFIC_RANK for p in c.places)
            for c in reading.candidates
        ):
            in_tally = False
    return candidates, tallies


def _earlier_report(doc: Document, pos: int, floor: int) -> bool:
    """ "بعد أن كانت وكالة سانا قد اكتفت في وقت سابق بالإشارة إلى …": "في وقت سابق" after an
    earlier count's opener ("بعد أن كانت", "قد أعلنت") dates that earlier report, not an
    earlier event: the sentence still tells today's toll."""
    return any(
        m.start < pos and m.end <= pos
        for m in doc.within(doc.cues["earlier_count"], max(floor, pos - 8), pos)
    )
