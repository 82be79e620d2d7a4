"""Which quantities are casualty counts, of what kind, of whose side, and which are parts.

A quantity counts people only on positive evidence: a person noun after it ("4 عناصر",
"8 قتلى", "9 من الجنود"), "من" + an actor, a casualty word right before it ("مقتل 4",
"إصابة اثنين"), a rising toll ("ارتفع إلى 41") or a breakdown ("هم 27").  Years, dates,
brigade numbers ("اللواء 137"), distances, money and durations never are.

Parts: after "هم/بينهم/من ضمنهم" the numbers break down the one before them
("41 … هم 27 … و5 …") and are not added again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from stream.extract.document import PUNCT, Document
from stream.extract.lexicon import Lexicon, Match, prefix_forms
from stream.extract.numbers import Quantity

_KILLED_FIRST = ("killed", "executed", "injured", "captured")


#: how far (tokens) "ارتفاع حصيلة الهجوم … إلى 11" may put the rising word before "إلى"
RISING_REACH = 20


@dataclass(frozen=True)
class Casualty:
    q: Quantity
    role: str  # one of marsad.records.CasualtyRole (the lexicon gives role words as str)
    actor: str | None
    clause: int
    part: bool
    rising: bool = False  # "ليرتفع عدد القتلى إلى 5": the whole current toll, not one more count
    #: told on another source's word ("في حين أفاد مصدر طبي …", the perpetrator's claim)
    alternative: bool = False
    #: an earlier count ("وكان المرصد قد أحصى في اليوم الأول …"): superseded by a later one
    earlier: bool = False
    #: "3 آخرين", "مدنيين آخرين": more people, never the same ones told again
    more: bool = False
    #: the same figure of the same dead told again (set while assembling)
    restated: bool = False

    @property
    def value(self) -> int:
        return self.q.value


def _in_date(doc: Document, q: Quantity) -> bool:
    return any(d.start <= q.start < d.end for d in doc.around(doc.dates, q.start))


def _no_break(doc: Document, a: int, b: int) -> bool:
    """No punctuation and no other quantity strictly between tokens a and b."""
    if any(w in PUNCT for w in doc.words[a:b]):
        return False
    return not doc.within(doc.quantities, a + 1, b)


def _person_after(doc: Document, q: Quantity, lex: Lexicon) -> bool:
    words = doc.words
    i = q.end
    # skip an after-qualifier ("41 على الأقل من …")
    m = lex.qualifiers_after.match_at(words, i) if i < len(words) else None
    if m is not None:
        i = m.end
    if i >= len(words):
        return False
    if words[i] in lex.non_casualty_after:
        return False
    if lex.person_nouns.match_at(words, i) is not None:
        return True
    if words[i] == "من" and i + 1 < len(words):
        j = i + 1
        if lex.person_nouns.match_at(words, j) is not None:
            return True
        # "3 من ميليشيا فاطميون", "5 من عناصر قسد": look through group words to the actor
        while (
            j < min(len(words) - 1, i + 4)
            and set(prefix_forms(words[j])) & lex.transparent_words
            and not any(a.start == j for a in doc.around(doc.actors, j))
        ):
            j += 1
        return any(a.start == j for a in doc.around(doc.actors, j))
    return any(a.start == i for a in doc.around(doc.actors, i))


def _split_idiom(doc: Document, q: Quantity, lex: Lexicon) -> bool:
    """ "فقد مدنيان حياتهما", "لقي 3 عمال حتفهم": verb, subject with its count, object."""
    words = doc.words
    verb = q.start - 1
    if verb < 0 or words[verb] not in lex.words.life_verbs:
        return False
    return any(
        words[k] in lex.words.life_objects and _no_break(doc, q.end - 1, k)
        for k in range(q.end, min(q.end + 5, len(words)))
    )


def _attached_role(doc: Document, q: Quantity, lex: Lexicon) -> str | None:
    if _split_idiom(doc, q, lex):
        return "killed"
    if q.kind == "dual":
        itself = [r for r in doc.around(doc.roles, q.start) if r.start == q.start]
        if itself:
            return itself[0].value  # "قتيلان", "جريحين"
    if q.kind == "singular":
        # made from the casualty word right before it ("مقتل عنصر")
        made_by = [r for r in doc.around(doc.roles, q.start) if r.end == q.start]
        if made_by:
            return made_by[0].value
        # a companion ("… وزوجته") shares the fate of the person before it
        back = [
            r
            for r in doc.around(doc.roles, q.start)
            if q.start - 12 <= r.end < q.start
            and not any(w in PUNCT for w in doc.words[r.end : q.start])
        ]
        if back:
            return back[-1].value
        # "ضابط وثلاثة جنود … حتفهم": it shares the fate of the count coordinated with it
        joined = [
            x
            for x in doc.around(doc.quantities, q.end)
            if x.start == q.end and doc.words[x.start].startswith("و")
        ]
        if joined:
            return _attached_role(doc, joined[0], lex)
        # "لقي قيادي … مصرعه": the casualty word comes after its subject
        ahead = [
            r
            for r in doc.around(doc.roles, q.end)
            if q.end <= r.start <= q.end + 8 and _no_break(doc, q.end, r.start)
        ]
        verb = doc.words[q.start - 1] if q.start > 0 else ""
        if verb in lex.words.parted_verbs:
            return "killed"  # "فارق عنصر … الحياة"
        if ahead and verb in lex.words.met_verbs:
            return min(ahead, key=lambda m: m.start).value
    # a casualty noun right after the number is the strongest ("ستين جريحاً"), unless it
    # opens the next coordinated phrase ("عسكريين اثنين وإصابة ثلاثة")
    nxt = q.end
    m = lex.qualifiers_after.match_at(doc.words, nxt) if nxt < len(doc.words) else None
    if m is not None:
        nxt = m.end
    right = [
        r
        for r in doc.around(doc.roles, q.start)
        if r.start == nxt
        and not (doc.words[r.start].startswith("و") and not r.entry.startswith("و"))
    ]
    if right:
        return right[0].value
    before = [
        m
        for m in doc.around(doc.roles, q.start)
        if q.start - 5 <= m.end <= q.start and _no_break(doc, m.end, q.start)
    ]
    if before:
        last = max(before, key=lambda m: m.end)
        if last.value == "injured" and any(
            m.value == "killed"
            and m.end == last.start
            and not doc.within(doc.quantities, m.start - 2, m.start)  # "3 شهداء وإصابة 7"
            for m in before
        ):
            return "mixed"  # "مقتل وإصابة 7": dead and wounded together, neither known
        return last.value
    after = [
        m
        for m in doc.around(doc.roles, q.end)
        if q.end <= m.start <= q.end + 5 and _no_break(doc, q.end, m.start)
    ]
    if after:
        return min(after, key=lambda m: m.start).value
    return None


def _nearest_role(roles: list[Match[str]], q: Quantity) -> str | None:
    if not roles:
        return None
    best = min(roles, key=lambda m: min(abs(m.start - q.start), abs(m.end - q.end)))
    if best.value == "injured":
        # "مقتل وإصابة", "قتلى وجرحى": a coordinated killed word wins
        for m in roles:
            if m.value == "killed" and abs(m.start - best.start) <= 2:
                return "killed"
    return best.value


def _qualifier_start(doc: Document, q: Quantity, lex: Lexicon) -> int:
    """Where the number's phrase begins: before a qualifier written ahead of it ("ما لا يقل
    عن 10", longest first), else at the number."""
    for back in range(4, 0, -1):
        if q.start - back < 0:
            continue
        m = lex.qualifiers_before.match_at(doc.words, q.start - back)
        if m is not None and m.end == q.start:
            return q.start - back
    return q.start


def _rising_cue(doc: Document, q: Quantity, lex: Lexicon) -> Match[str] | None:
    """ "ارتفع إلى 41", "بلغ عددهم نحو 70": the rising phrase whose toll the number is."""
    i = _qualifier_start(doc, q, lex) - 1
    if i < 0 or doc.words[i] not in lex.words.toll_openers:
        return None
    found = [
        m
        for m in doc.around(doc.cues["rising"], i, RISING_REACH + 4)
        if i - RISING_REACH <= m.end <= i + 1 and _no_break(doc, m.end, i)
    ]
    return found[-1] if found else None  # the nearest one opens the number's phrase


def _after_rising(doc: Document, q: Quantity, lex: Lexicon) -> bool:
    """A toll right after a rising phrase."""
    return _rising_cue(doc, q, lex) is not None


def _after_place_name(doc: Document, q: Quantity, lex: Lexicon) -> bool:
    """ "السويداء 24", "دير الزور 24": digits glued to a place name name an outlet or a
    road, not a count, unless a person noun follows ("في درعا 3 أشخاص")."""
    if q.kind != "digit":
        return False
    placed = any(p.end == q.start for p in doc.around(doc.places, q.start))
    if not placed or _person_after(doc, q, lex):
        return False
    # "بلغ عدد الشهداء جراء الغارات على بلدة الجرذي شرقي دير الزور 24": the count a rising
    # phrase opened, not an outlet's name
    c = doc.clauses[doc.clause_of(q.start)]
    return not doc.within(doc.cues["rising"], c.start, q.start)


def _an_age(doc: Document, q: Quantity, lex: Lexicon) -> bool:
    """ "في الرابعة عشرة من عمره", "البالغ من العمر 16 عاماً": an age, not a count."""
    words = doc.words
    ahead = words[q.end : q.end + 2]
    behind = words[max(0, q.start - 2) : q.start]
    return any(w in lex.words.age_words for w in [*ahead, *behind])


def _is_label(doc: Document, q: Quantity, lex: Lexicon) -> bool:
    words = doc.words
    if _after_place_name(doc, q, lex) or _an_age(doc, q, lex):
        return True
    prev = words[q.start - 1] if q.start > 0 else ""
    if (
        q.kind == "word"
        and (
            prev in lex.non_casualty_after
            or any(f in lex.non_casualty_after for f in prefix_forms(prev)[1:])
        )
        and not _person_after(doc, q, lex)
    ):
        # a number word after a thing noun qualifies it ("يوم واحد", "عائلة واحدة"); with
        # a person noun after it, it still counts ("أوقعت الغارة سبعة قتلى")
        return True
    if prev in lex.non_casualty_before or any(
        f in lex.non_casualty_before for f in prefix_forms(prev)
    ):
        # "اللواء 137" is a label; "… العام 300 عنصر" still counts people
        return not _person_after(doc, q, lex)
    nxt = words[q.end] if q.end < len(words) else ""
    return nxt in lex.non_casualty_after or any(
        f in lex.non_casualty_after for f in prefix_forms(nxt)[1:2]
    )


def _role(
    doc: Document, q: Quantity, clause: int, sentence_span: tuple[int, int], lex: Lexicon
) -> str | None:
    """The casualty kind of a quantity, or None when it is not a casualty count."""
    if q.kind == "digit" and 1900 <= q.value <= 2100 and not _person_after(doc, q, lex):
        return None
    if _in_date(doc, q) or (q.kind not in ("singular", "dual") and _is_label(doc, q, lex)):
        return None
    c = doc.clauses[clause]
    for k in range(q.end, min(q.end + 8, len(doc.words))):
        if k > q.end + 1 and not _no_break(doc, q.end, k):
            break
        if lex.mixed_casualties.match_at(doc.words, k) is not None:
            # "12 بين قتيل وجريح", "12 عنصراً من قسد بين قتيل وجريح": neither toll is known
            return None
    if (
        q.kind == "dual"
        and doc.words[q.start].startswith("ال")
        and not any(r.end == q.start for r in doc.around(doc.roles, q.start))
    ):
        return None  # "الجريحين", "الطفلين القتيلين": the two already told of, not two more
    attached = _attached_role(doc, q, lex)
    if attached in ("mixed", "none"):
        return None  # dead and wounded together; or a court's sentence, not a death
    shaped = (
        attached is not None
        or _person_after(doc, q, lex)
        or q.kind == "dual"
        or any(m.end == q.start or m.end == q.start - 1 for m in doc.around(doc.breakdown, q.start))
        or q.kind == "singular"
        or _after_rising(doc, q, lex)
    )
    if not shaped:
        return None
    if attached is not None:
        return attached
    in_clause = doc.within(doc.roles, c.start, c.end)
    role = _nearest_role(in_clause, q)
    if role is not None:
        return role
    if _after_rising(doc, q, lex):
        return "killed"  # "ارتفع إلى 41 …": a toll's current figure
    return None


def _actor(
    doc: Document, q: Quantity, clause: int, sentence_span: tuple[int, int], lex: Lexicon
) -> str | None:
    c = doc.clauses[clause]
    stop = c.end
    for m in doc.within(doc.breakdown, q.end, stop):
        if q.end <= m.start < stop:
            stop = m.start
    first = q.end
    skip = lex.qualifiers_after.match_at(doc.words, first) if first < len(doc.words) else None
    if skip is not None:
        first = skip.end
    for k in range(first, min(stop, first + 9)):
        if doc.words[k] in lex.words.both_sides:
            return None  # "من الطرفين": both sides, no one side's dead
        if doc.words[k] in lex.words.actor_stops or doc.words[k] in PUNCT:
            break
        hit = next((a for a in doc.around(doc.actors, k) if a.start == k), None)
        if hit is not None and hit.role not in ("attacker", "partner", "speaker"):
            return hit.code
    rising = _rising_cue(doc, q, lex)
    if rising is not None:
        # "ارتفع عدد قتلى قوات النظام إلى 9": the side named inside the rising phrase;
        # "ليرتفع إلى 8 تعداد من قضوا": none named there, a risen total of every side
        # "ارتفع إلى 106 … عدد قتلى قوات النظام": or after it, right after a casualty noun
        inside = doc.within(doc.actors, rising.end, q.start)
        named = {a.code for a in inside if a.role != "attacker"}
        if len(named) == 1:
            return named.pop()
        if named:
            return None  # "… الاشتباكات بين الفصائل وقسد إلى 19": both sides' dead
        for r in doc.within(doc.roles, q.end, c.end):
            after = next((a for a in doc.around(doc.actors, r.end) if a.start == r.end), None)
            if after is not None and after.role != "attacker":
                return after.code
        return None
    before = [a for a in doc.within(doc.actors, sentence_span[0], q.start) if a.role != "attacker"]
    if before:
        return before[-1].code
    return None


def _share_of(doc: Document, q: Quantity, start: int, found: list[Casualty]) -> str | None:
    """ "قتل 11 شخصاً في ثلاث هجمات: 6 في الباب، و3 في عفرين": a bare number placed
    "في …" after a colon that follows a count is a share of that count, of its kind."""
    words = doc.words
    if q.kind != "digit" or q.end >= len(words) or words[q.end] != "في":
        return None
    colons = [k for k in range(start, q.start) if words[k] == ":"]
    if not colons:
        # "قتل 3 مدنيين في كفرنبل و2 في أريحا": a bare number joined by "و" to a count of
        # this sentence and placed "في" a named place is another share of that kind
        joined = q.start > 0 and words[q.start - 1] == "و"
        placed = any(p.start in (q.end + 1, q.end + 2) for p in doc.around(doc.places, q.end))
        heads = [c for c in found if start <= c.q.start < q.start]
        return heads[-1].role if joined and placed and heads else None
    heads = [c for c in found if start <= c.q.start and c.q.end <= colons[0]]
    return heads[-1].role if heads else None


def combined_count(doc: Document, q: Quantity, lex: Lexicon) -> bool:
    """Dead and wounded counted together: "مقتل وإصابة 19" (a few words before, no other
    number or stop between), "ارتفع عدد القتلى والجرحى … إلى 23" (the rising count names
    both), "37 شهيداً وجريحاً" (a killed noun and an injured noun joined after it)."""
    for m in doc.within(doc.cues["combined_counts"], max(0, q.start - 7), q.start):
        if _no_break(doc, m.end - 1, q.start):
            return True
    rising = _rising_cue(doc, q, lex)
    if rising is not None and doc.within(doc.cues["combined_counts"], rising.start, q.start):
        return True
    nxt = [r for r in doc.around(doc.roles, q.end) if r.start == q.end]
    if nxt and nxt[0].value == "killed":
        joined = [r for r in doc.around(doc.roles, nxt[0].end) if r.start == nxt[0].end]
        if joined and joined[0].value == "injured":
            word = doc.words[joined[0].start]
            # "37 شهيداً وجريحاً": a noun joined to it ("36 شهيداً وأصيب 50" is two counts)
            return word.startswith("و") and word[1:] in lex.words.injured_nouns
    return False


def _cue_before(doc: Document, group: str, q: Quantity, sentence_start: int) -> bool:
    """A cue of ``group`` earlier in the number's clause, or opening its sentence."""
    c = doc.clauses[doc.clause_of(q.start)]
    if doc.within(doc.cues[group], c.start, q.start):
        return True
    return bool(doc.within(doc.cues[group], sentence_start, min(sentence_start + 4, q.start)))


def _alternative(doc: Document, q: Quantity, sentence_start: int) -> bool:
    """Told on another source's word: the official figure beside the monitor's, a
    perpetrator's claim beside the reported toll ("في حين أفاد مصدر طبي …", "زعم التنظيم")."""
    return _cue_before(doc, "alternative_sources", q, sentence_start)


def _earlier(doc: Document, q: Quantity, sentence_start: int) -> bool:
    """An earlier count of the same dead ("الحصيلة الأولية", "في اليوم الأول", "بعدما كانت")."""
    return _cue_before(doc, "earlier_count", q, sentence_start)


def _more(doc: Document, q: Quantity, lex: Lexicon) -> bool:
    """ "3 آخرين", "مدنيين آخرين": people beyond those already counted."""
    words = doc.words
    if q.end < len(words) and words[q.end] in lex.words.more_words:
        return True  # "3 آخرين"
    noun = lex.person_nouns.match_at(words, q.end) if q.end < len(words) else None
    return noun is not None and noun.end < len(words) and words[noun.end] in lex.words.more_words


def _subset(doc: Document, q: Quantity, lex: Lexicon) -> bool:
    """ "ومن بين القتلى 10 من حزب الله", "3 من المصابين": a breakdown of a count told
    before; "إحدى الجثث", "أحد الجرحى": one of the dead or wounded already counted."""
    qualified = _qualifier_start(doc, q, lex)  # "وبين القتلى ما لا يقل عن 10"
    for m in doc.around(doc.cues["subset_openers"], q.start):
        if m.end in (q.start, q.start - 1, qualified):
            return True
        if m.start == q.end and m.entry.startswith("من ال"):
            return True  # "3 من المصابين حالتهم حرجة": three of the wounded
    if q.value != 1 or q.kind != "word" or q.end >= len(doc.words):
        return False
    nxt = doc.words[q.end]
    return nxt.startswith("ال") and any(r.start == q.end for r in doc.around(doc.roles, q.end))


def find_casualties(doc: Document, lex: Lexicon) -> list[Casualty]:
    out: list[Casualty] = []
    for s in doc.sentences:
        span = (s.start, s.end)
        for q in doc.within(doc.quantities, s.start, s.end):
            clause = doc.clause_of(q.start)
            if combined_count(doc, q, lex):
                continue
            role = _role(doc, q, clause, span, lex) or _share_of(doc, q, s.start, out)
            if role is None:
                continue
            out.append(
                Casualty(
                    q,
                    role,
                    _actor(doc, q, clause, span, lex),
                    clause,
                    _subset(doc, q, lex),
                    rising=_after_rising(doc, q, lex),
                    alternative=_alternative(doc, q, s.start),
                    earlier=_earlier(doc, q, s.start),
                    more=_more(doc, q, lex),
                )
            )
    return _mark_parts(doc, out, lex)


def _identity(doc: Document, pos: int) -> bool:
    """ "القتلى هم 18 … و23": "هم" after a casualty noun lists the whole count, not a part."""
    return doc.words[pos] == "هم" and any(r.end == pos for r in doc.around(doc.roles, pos))


def _mark_parts(doc: Document, found: list[Casualty], lex: Lexicon) -> list[Casualty]:
    """After a main number and a breakdown word in the same clause, numbers are parts.

    A number right after a breakdown word is always a part (of a count given elsewhere:
    "نقلت المصابين …، بينهم طفلان"); a number with its own casualty word before it
    ("، ومقتل 8 من …") starts a new count.
    """
    out: list[Casualty] = []
    main_end: dict[int, int] = {}
    for cas in found:
        first_end = main_end.get(cas.clause)
        right_after = any(
            m.end in (cas.q.start, cas.q.start - 1) and not _identity(doc, m.start)
            for m in doc.around(doc.breakdown, cas.q.start)
        )
        own_word = any(r.end == cas.q.start for r in doc.around(doc.roles, cas.q.start))
        c = doc.clauses[cas.clause]
        within_rising = (
            first_end is not None
            and doc.has_cue("rising", c.start, cas.q.start)
            and not _after_rising(doc, cas.q, lex)
            and cas.role in ("killed", "executed")
        )
        is_part = (
            cas.part
            or right_after
            or within_rising
            or (
                first_end is not None
                and not own_word
                and bool(doc.within(doc.breakdown, first_end, cas.q.start + 1))
            )
        )
        if not is_part and cas.clause not in main_end:
            main_end[cas.clause] = cas.q.end
        out.append(replace(cas, part=is_part))
    return out
