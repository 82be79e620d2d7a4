"""One article read once: normalized text, tokens, clauses and every lexicon match.

Everything later (casualties, incidents) asks questions of this record instead of
re-scanning text, so each lexicon is matched once per article.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Protocol, TypeVar

from stream.extract.actors import STATE, ActorMention, find_actors
from stream.extract.dates import DateMention, find_dates
from stream.extract.lexicon import Lexicon, Match, PhraseScan
from stream.extract.normalize import NormText, normalize
from stream.extract.numbers import Quantity, find_quantities
from stream.extract.places import PlaceMention, find_places
from stream.extract.segment import Clause, Sentence, Token, segment, tokenize


class _Positioned(Protocol):
    @property
    def start(self) -> int: ...


T = TypeVar("T", bound=_Positioned)


def _start(item: _Positioned) -> int:
    return item.start


PUNCT = frozenset({"،", ",", ".", ":", "؛", ";", "(", ")", "-", "/", "!", "?", "…"})


@dataclass
class Document:
    nt: NormText
    tokens: list[Token]
    words: list[str]
    sentences: list[Sentence]
    clauses: list[Clause]
    clause_sentence: list[int]
    anchor: date | None
    actors: list[ActorMention]
    places: list[PlaceMention]
    dates: list[DateMention]
    quantities: list[Quantity]
    roles: list[Match[str]]
    events: list[Match[str]]
    cues: dict[str, list[Match[str]]]
    breakdown: list[Match[str]]
    _clause_starts: list[int] = field(default_factory=list)

    def clause_of(self, token: int) -> int:
        return bisect.bisect_right(self._clause_starts, token) - 1

    def within(self, items: list[T], start: int, end: int) -> list[T]:
        """Items (sorted by .start) that begin inside tokens [start, end)."""
        lo = bisect.bisect_left(items, start, key=_start)
        hi = bisect.bisect_left(items, end, key=_start)
        return items[lo:hi]

    def around(self, items: list[T], pos: int, radius: int = 16) -> list[T]:
        """Items beginning within ``radius`` tokens of ``pos`` (local look-ups stay local)."""
        return self.within(items, max(0, pos - radius), pos + radius)

    def text_of(self, start: int, end: int) -> str:
        """Original text of tokens [start, end)."""
        if start >= end:
            return ""
        a = self.tokens[start].start
        b = self.tokens[end - 1].end
        return self.nt.original_slice(a, b).strip()

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        return self.nt.to_original(self.tokens[start].start, self.tokens[end - 1].end)

    def has_cue(self, group: str, start: int, end: int) -> bool:
        return bool(self.within(self.cues[group], start, end))


def _singulars(
    words: list[str], roles: list[Match[str]], found: list[Quantity], lex: Lexicon
) -> list[Quantity]:
    """ "مقتل عنصر": a casualty word followed by a singular person noun counts one."""
    starts = {q.start for q in found}
    extra: list[Quantity] = []

    def singular(word: str, accusative: bool = False) -> bool:
        """ "عنصر", with the article "المواطن", "الشاب" (a named victim follows), and, as the
        subject of a verb after it, in the accusative ("إن جندياً قُتل")."""
        if word in lex.singular_nouns:
            return True
        if word.startswith("ال") and word[2:] in lex.singular_nouns:
            return True
        return accusative and word.endswith("يا") and word[:-1] in lex.singular_nouns

    def add_one(j: int) -> None:
        """One person, and the kin who share their fate ("… وابنه", "مع مرافقه",
        "وطفلاها", "وزوجته وأطفالهما الثلاثة")."""
        extra.append(Quantity(j, j + 1, 1, "singular", None))
        k = j + 1
        while k < min(j + 11, len(words)):
            word = words[k]
            if word in PUNCT:
                nxt = words[k + 1] if k + 1 < len(words) else ""
                if word in ("،", ",") and nxt.startswith("و") and singular(nxt[1:]):
                    k += 1  # "… ليمان شويش، وعضو المجلس فرات توما": one more named victim
                    continue
                break
            bare = word[1:] if word.startswith("و") else word
            joined = word.startswith("و") or words[k - 1] == "مع"
            if joined and bare in lex.companions:
                extra.append(Quantity(k, k + 1, 1, "singular", None))
            elif joined and k not in starts and singular(bare if word.startswith("و") else word):
                # "مع شخص آخر", "شاب وطفل", "وعضو المجلس …": one more person
                extra.append(Quantity(k, k + 1, 1, "singular", None))
            elif joined and bare in lex.companion_duals:
                extra.append(Quantity(k, k + 1, 2, "singular", None))
            elif joined and bare in lex.companion_groups and k + 1 < len(words):
                number = words[k + 1][2:] if words[k + 1].startswith("ال") else ""
                count = lex.units.get(number) or lex.tens.get(number)
                if count:
                    extra.append(Quantity(k, k + 2, count, "singular", None))
                    k += 1
            elif extra[-1].start != j:
                break  # the kin list ended
            k += 1

    for m in roles:
        j = m.end
        if j < len(words) and singular(words[j]) and not {j, j + 1} & starts:
            add_one(j)
    # "وكان عنصر من قسد قد قتل …", "شاب يقتل برصاص …": a singular noun, then the verb
    role_starts = {m.start for m in roles}
    role_ends = {m.end for m in roles}
    count_ends = {q.end for q in found}
    for j, word in enumerate(words):
        if not singular(word, accusative=True) or {j, j - 1} & starts:
            continue
        if j > 0 and (words[j - 1].isdigit() or j in role_ends or j in count_ends):
            continue  # "أحد عشر عسكرياً": the noun of a count, not one more person
        if j + 1 in starts and words[j + 1].startswith("و"):
            # "لقي ضابط وثلاثة جنود حتفهم": one person coordinated with a count
            extra.append(Quantity(j, j + 1, 1, "singular", None))
            continue
        if j > 0 and words[j - 1] in lex.words.split_idiom_verbs:
            add_one(j)  # "لقي قيادي … مصرعه مع مرافقه", "فارق عنصر … الحياة"
            continue
        for k in range(j + 1, min(j + 6, len(words))):
            if words[k] in PUNCT:
                break
            if k in role_starts and words[k] in lex.words.singular_verbs:
                extra.append(Quantity(j, j + 1, 1, "singular", None))
                break
    for opener in lex.added_openers.find_all(words):
        j = opener.end
        person = lex.added_persons.match_at(words, j) if j < len(words) else None
        if person is not None and not {j} & starts:
            extra.append(Quantity(j, person.end, 1, "singular", None))
    return sorted([*found, *extra], key=lambda q: q.start)


_SCANS: dict[int, tuple[Lexicon, PhraseScan]] = {}


def _scan(lex: Lexicon) -> PhraseScan:
    """One pass for the cue groups and the role, event and breakdown indexes (names of the
    latter start with a space, which no cue group's name does); built once per lexicon."""
    entry = _SCANS.get(id(lex))
    if entry is None or entry[0] is not lex:
        scan = PhraseScan(
            {
                **lex.cues,
                **lex.judge,
                " roles": lex.roles,
                " events": lex.events,
                " breakdown": lex.breakdown,
            }
        )
        entry = _SCANS[id(lex)] = (lex, scan)
    return entry[1]


#: the state whose forces generic words ("الشرطة", "القوات الأمنية") name, by country
_STATE_OF = {"SY": "SYRIAN_GOV", "IQ": "IRAQ_GOV"}


def resolve_state(actors: list[ActorMention], places: list[PlaceMention]) -> list[ActorMention]:
    """ "@STATE" (generic state forces) as the state of the country the report is about:
    the country most of its places are in (Syria when none is named)."""
    if not any(a.code == STATE for a in actors):
        return actors
    countries = Counter(p.place.admin1[:2] for p in places if p.place.admin1)
    country = countries.most_common(1)[0][0] if countries else "SY"
    code = _STATE_OF.get(country, "UNKNOWN")
    return [replace(a, code=code, generic=True) if a.code == STATE else a for a in actors]


def _a_word_not_a_month(nt: NormText, token: Token, lex: Lexicon) -> bool:
    """ "أب" (a father, "بيك أب") normalizes to August's "آب": the written hamza tells them
    apart, so the original spelling is read here, where it is still at hand."""
    written = nt.original_slice(token.start, token.end)
    return any(written == w or written[1:] == w for w in lex.words.not_months)


def read(text: str, anchor: date | None, lex: Lexicon) -> Document:
    nt = normalize(text)
    tokens = tokenize(nt.text)
    words = [t.text for t in tokens]
    sentences = segment(nt.text, tokens, lex)
    clauses: list[Clause] = []
    clause_sentence: list[int] = []
    for s in sentences:
        for c in s.clauses:
            clauses.append(c)
            clause_sentence.append(s.index)
    found = _scan(lex).find_all(words)
    places = find_places(words)
    dates = [
        d
        for d in find_dates(words, lex, anchor)
        if not (d.kind == "month" and _a_word_not_a_month(nt, tokens[d.start], lex))
    ]
    roles = found.pop(" roles")
    events = found.pop(" events")
    breakdown = found.pop(" breakdown")
    return Document(
        nt=nt,
        tokens=tokens,
        words=words,
        sentences=sentences,
        clauses=clauses,
        clause_sentence=clause_sentence,
        anchor=anchor,
        actors=resolve_state(find_actors(words, lex), places),
        places=places,
        dates=dates,
        quantities=_singulars(words, roles, find_quantities(words, lex), lex),
        roles=roles,
        events=events,
        cues=found,
        breakdown=breakdown,
        _clause_starts=[c.start for c in clauses],
    )
