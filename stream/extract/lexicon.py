"""Lexicons kept as YAML data (stream/extract/data/), loaded once and indexed for matching.

Entries are written the way reporters write them; they are normalized here with the same
function as article text, so nobody has to hand-normalize a lexicon.  Matching is by tokens:
an entry matches when the tokens agree after attached clitics (و ف ب ل ك, and "لل" for
"ل" + "ال") are taken off the first token and, where the lexicon allows it, a pronoun suffix
off the last.  A token lookup per position keeps matching linear in the article's length,
which a regex alternation of hundreds of names is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel

from stream.extract.normalize import norm
from stream.extract.schema import (
    ActorsFile,
    CuesFile,
    DatesFile,
    LexiconError,
    NumbersFile,
    TriggersFile,
    WordsFile,
    lexicon_file,
    norm_map,
    word_set,
)

DATA_DIR = Path(__file__).resolve().parent / "data"

V = TypeVar("V")

_CLITICS = ("و", "ف", "ب", "ل", "ك", "وب", "ول", "وك", "فب", "فل", "فك")
_SUFFIXES = ("هما", "هم", "هن", "ها", "ه", "نا", "كم")


def load_yaml(name: str, folder: Path = DATA_DIR) -> Any:
    """Read one data file of the extractor (I/O edge: called from cached loaders only).

    ``folder`` is the extractor's ``data/`` unless told: the gazetteer lives in the kernel's
    ``marsad/data/`` because alerts name governorates from it too."""
    try:
        with (folder / name).open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except OSError as exc:
        raise LexiconError(f"cannot be read: {exc.strerror or exc}", name) from exc
    except yaml.YAMLError as exc:
        raise LexiconError(f"not valid YAML: {exc}", name) from exc


M = TypeVar("M", bound=BaseModel)


def load_checked(name: str, model: type[M]) -> M:
    """One data file, validated against its schema (a mistake names the file, line and key)."""
    return lexicon_file(model).load(DATA_DIR / name)


@lru_cache(maxsize=65536)
def prefix_forms(token: str) -> tuple[str, ...]:
    """The token and what it may be with an attached clitic removed (longest word first)."""
    forms = [token]
    for clitic in _CLITICS:
        if token.startswith(clitic) and len(token) - len(clitic) >= 2:
            rest = token[len(clitic) :]
            forms.append(rest)
            if clitic.endswith("ل") and rest.startswith("ل") and len(rest) >= 3:
                forms.append("ا" + rest)  # لل+X = ل + الX
    if token.startswith("لل") and len(token) >= 4:
        forms.append("ا" + token[1:])
    return tuple(forms)


@lru_cache(maxsize=65536)
def suffix_forms(token: str) -> tuple[str, ...]:
    forms = [token]
    if token.endswith("ا") and len(token) >= 4:
        forms.append(token[:-1])  # accusative tanween: "قصفاً", "هجوماً"
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 2:
            forms.append(token[: -len(suffix)])
    return tuple(forms)


@dataclass(frozen=True)
class Match(Generic[V]):
    """A lexicon entry found at tokens [start, end)."""

    start: int
    end: int
    value: V
    entry: str


@dataclass
class PhraseIndex(Generic[V]):
    """Token-level index of multi-word entries -> value."""

    suffixes: bool = False
    article: bool = False
    _index: dict[str, list[tuple[tuple[str, ...], V, str, bool]]] = field(default_factory=dict)
    _memo: dict[str, tuple[tuple[str, tuple[tuple[str, ...], V, str, bool]], ...]] = field(
        default_factory=dict
    )

    def add(self, phrase: str, value: V) -> None:
        exact = phrase.startswith("=")
        words = tuple(norm(phrase.lstrip("=")).split())
        if not words:
            return
        variants = [words]
        if self.article and not words[0].startswith("ال"):
            variants.append(("ال" + words[0], *words[1:]))
        self._memo.clear()
        for variant in variants:
            bucket = self._index.setdefault(variant[0], [])
            bucket.append((variant, value, phrase, self.suffixes and not exact))
            bucket.sort(key=lambda item: -len(item[0]))

    def add_all(self, phrases: Iterable[str], value: V) -> None:
        for phrase in phrases:
            self.add(phrase, value)

    def match_at(self, tokens: Sequence[str], i: int) -> Match[V] | None:
        """The longest entry starting at token i, if any."""
        candidates = self._memo.get(tokens[i])
        if candidates is None:
            candidates = self._first_candidates(tokens[i])
        if not candidates:  # most tokens start no entry: leave at once (callers probe each token)
            return None
        best: Match[V] | None = None
        room = len(tokens) - i
        for form, (words, value, phrase, suffixed) in candidates:
            n = len(words)
            if n > room or (best is not None and n <= best.end - best.start):
                continue
            if n == 1:  # the common case, inlined: this runs for every candidate token
                ok = form == words[0] or (suffixed and words[0] in suffix_forms(form))
            else:
                ok = self._agrees(tokens, i, words, form, suffixed)
            if ok:
                best = Match(i, i + n, value, phrase)
        return best

    def _first_candidates(
        self, token: str
    ) -> tuple[tuple[str, tuple[tuple[str, ...], V, str, bool]], ...]:
        """Entries that may start at this token, memoized: most tokens start none."""
        hit = self._memo.get(token)
        if hit is None:
            hit = tuple((form, c) for form in prefix_forms(token) for c in self._lookup_first(form))
            if len(self._memo) > 200_000:
                self._memo.clear()
            self._memo[token] = hit
        return hit

    def _lookup_first(self, form: str) -> list[tuple[tuple[str, ...], V, str, bool]]:
        found = list(self._index.get(form, ()))
        if self.suffixes:
            for stem in suffix_forms(form)[1:]:
                found.extend(c for c in self._index.get(stem, ()) if len(c[0]) == 1 and c[3])
        return found

    @staticmethod
    def _agrees(
        tokens: Sequence[str], i: int, words: tuple[str, ...], form: str, suffixed: bool
    ) -> bool:
        n = len(words)
        if n == 1:
            return form == words[0] or (suffixed and words[0] in suffix_forms(form))
        if form != words[0]:
            return False
        for k in range(1, n):
            tok = tokens[i + k]
            if tok == words[k]:
                continue
            if k == n - 1 and suffixed and words[k] in suffix_forms(tok):
                continue
            return False
        return True

    def find_all(self, tokens: Sequence[str]) -> list[Match[V]]:
        """Non-overlapping longest matches, left to right."""
        out: list[Match[V]] = []
        i = 0
        n = len(tokens)
        memo = self._memo
        while i < n:
            # Hot path (every index scans every token of every article): most tokens start
            # no entry, so skip them on a memo hit without the two calls of match_at.
            hit = memo.get(tokens[i])
            if hit is not None and not hit:
                i += 1
                continue
            m = self.match_at(tokens, i)
            if m is None:
                i += 1
                continue
            out.append(m)
            i = m.end
        return out


@dataclass
class PhraseScan:
    """Several indexes scanned over one token list in a single pass.

    Why: every article is matched against a dozen cue groups plus the role, event and
    breakdown indexes; scanning each separately walks every token once per index, which
    was the largest share of extraction time. Here a per-token memo says which indexes can
    start a match at that token (most tokens: none), and each index keeps its own
    left-to-right, longest, non-overlapping semantics, exactly as its ``find_all``.
    """

    indexes: dict[str, PhraseIndex[Any]]
    _memo: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def find_all(self, tokens: Sequence[str]) -> dict[str, list[Match[Any]]]:
        out: dict[str, list[Match[Any]]] = {name: [] for name in self.indexes}
        free = dict.fromkeys(self.indexes, 0)
        memo = self._memo
        for i, token in enumerate(tokens):
            names = memo.get(token)
            if names is None:
                names = tuple(
                    name for name, idx in self.indexes.items() if idx._first_candidates(token)
                )
                if len(memo) > 200_000:
                    memo.clear()
                memo[token] = names
            for name in names:
                if i < free[name]:
                    continue
                m = self.indexes[name].match_at(tokens, i)
                if m is not None:
                    out[name].append(m)
                    free[name] = m.end
        return out


def phrase_index(
    groups: dict[Any, Iterable[str]], *, suffixes: bool = False, article: bool = False
) -> PhraseIndex[Any]:
    index: PhraseIndex[Any] = PhraseIndex(suffixes=suffixes, article=article)
    for value, phrases in groups.items():
        index.add_all(phrases, value)
    return index


def word_set_with_article(words: Iterable[str]) -> frozenset[str]:
    """Words, and the same words with the article ("قصف", "القصف")."""
    base = word_set(words)
    return base | frozenset("ال" + w for w in base if not w.startswith("ال"))


@dataclass(frozen=True)
class Lexicon:
    """Everything the extractor matches against, normalized and indexed."""

    actors: PhraseIndex[str]
    organisations: tuple[str, ...]
    default_organisation: str
    #: the names a later "الهيئة" may point back to (matched as the actor lexicon does)
    body_names: PhraseIndex[str]
    default_body: str
    roles: PhraseIndex[str]
    events: PhraseIndex[str]
    attack_verbs: PhraseIndex[str]
    attack_nouns: frozenset[str]
    target_words: frozenset[str]
    partner_words: frozenset[str]
    transparent_words: frozenset[str]
    patron_words: frozenset[str]
    origin_words: frozenset[str]
    accuse_verbs: frozenset[str]
    accusation_objects: frozenset[str]
    cues: dict[str, PhraseIndex[str]]
    breakdown: PhraseIndex[str]
    connectives: frozenset[str]
    bare_connectives: frozenset[str]
    boilerplate: tuple[str, ...]
    mixed_casualties: PhraseIndex[str]
    no_casualty_negations: PhraseIndex[str]
    no_casualty_nouns: PhraseIndex[str]
    no_casualty_blockers: frozenset[str]
    period_units: frozenset[str]
    recent_since: frozenset[str]
    units: dict[str, int]
    tens: dict[str, int]
    hundreds: dict[str, int]
    multipliers: dict[str, int]
    vague: dict[str, int]
    qualifiers_before: PhraseIndex[str]
    qualifiers_after: PhraseIndex[str]
    person_nouns: PhraseIndex[str]
    dual_nouns: frozenset[str]
    singular_nouns: frozenset[str]
    companions: frozenset[str]
    companion_duals: frozenset[str]
    companion_groups: frozenset[str]
    added_persons: PhraseIndex[str]
    added_openers: PhraseIndex[str]
    non_casualty_after: frozenset[str]
    non_casualty_before: frozenset[str]
    #: definite ordinal units: the "عشرة" after one is part of an ordinal
    ordinals: frozenset[str]
    months: PhraseIndex[int]
    weekdays: PhraseIndex[int]
    relative_days: PhraseIndex[int]
    past_words: frozenset[str]
    current_words: frozenset[str]
    words: WordsFile
    judge: dict[str, PhraseIndex[str]]


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """Load and index every lexicon once per process."""
    actors_data = load_checked("actors.yaml", ActorsFile).model_dump()
    triggers = load_checked("triggers.yaml", TriggersFile).model_dump()
    cues = load_checked("cues.yaml", CuesFile).model_dump()
    numbers = load_checked("numbers.yaml", NumbersFile).model_dump()
    dates = load_checked("dates.yaml", DatesFile).model_dump()
    words = load_checked("words.yaml", WordsFile)
    judge_groups = (
        "combined_counts",
        "summary_scope",
        "alternative_sources",
        "earlier_count",
        "subset_openers",
        "several_events",
        "next_day",
    )

    cue_groups = {
        key: cues[key]
        for key in (
            "tally",
            "period_report",
            "tally_continuation",
            "single_event",
            "since",
            "background",
            "pluperfect",
            "generic",
            "aside",
            "rising",
            "no_casualties",
            "cumulative",
            "superlatives",
            "occurrences",
        )
    }
    qb = {k: v for k, v in numbers["qualifiers_before"].items()}
    qa = {k: v for k, v in numbers["qualifiers_after"].items()}
    return Lexicon(
        actors=phrase_index(actors_data["actors"]),
        organisations=tuple(actors_data["organisations"]),
        default_organisation=actors_data["default_organisation"],
        body_names=phrase_index({"body": actors_data["body_names"]}),
        default_body=actors_data["default_body"],
        roles=phrase_index(triggers["roles"], suffixes=True, article=True),
        events=phrase_index(triggers["events"], suffixes=True, article=True),
        attack_verbs=phrase_index({"attack": triggers["attack_verbs"]}, suffixes=True),
        attack_nouns=word_set_with_article(triggers["attack_nouns"]),
        target_words=word_set_with_article(triggers["target_words"]),
        partner_words=word_set(triggers["partner_words"]),
        transparent_words=word_set_with_article(triggers["transparent_words"]),
        patron_words=word_set(triggers["patron_words"]),
        origin_words=word_set(triggers["origin_words"]),
        accuse_verbs=word_set(triggers["accuse_verbs"]),
        accusation_objects=word_set(triggers["accusation_objects"]),
        cues={group: phrase_index({group: phrases}) for group, phrases in cue_groups.items()},
        breakdown=phrase_index({"breakdown": cues["breakdown"]}),
        connectives=word_set(cues["connectives"]),
        bare_connectives=word_set(cues["bare_connectives"]),
        boilerplate=tuple(norm(b) for b in cues["boilerplate"]),
        mixed_casualties=phrase_index({"mixed": cues["mixed_casualties"]}),
        no_casualty_negations=phrase_index({"neg": cues["no_casualty_negations"]}),
        no_casualty_nouns=phrase_index({"noun": cues["no_casualty_nouns"]}, article=True),
        no_casualty_blockers=word_set(cues["no_casualty_blockers"]),
        period_units=word_set(cues["period_units"]),
        recent_since=word_set(cues["recent_since"]),
        units=norm_map(numbers["units"]),
        tens=norm_map(numbers["tens"]),
        hundreds=norm_map(numbers["hundreds"]),
        multipliers=norm_map(numbers["multipliers"]),
        vague=norm_map(numbers["vague"]),
        qualifiers_before=phrase_index(qb),
        qualifiers_after=phrase_index(qa),
        person_nouns=phrase_index({"person": numbers["person_nouns"]}, article=True),
        dual_nouns=word_set(numbers["dual_nouns"]),
        singular_nouns=word_set(numbers["singular_nouns"]),
        companions=word_set(numbers["companions"]),
        companion_duals=word_set(numbers["companion_duals"]),
        companion_groups=word_set(numbers["companion_groups"]),
        added_persons=phrase_index({"person": numbers["added_persons"]}),
        added_openers=phrase_index({"add": numbers["added_openers"]}),
        non_casualty_after=word_set(numbers["non_casualty_after"]),
        non_casualty_before=word_set(numbers["non_casualty_before"]),
        ordinals=word_set(numbers["ordinals"]),
        months=phrase_index({int(k): v for k, v in dates["months"].items()}),
        weekdays=phrase_index({int(k): v for k, v in dates["weekdays"].items()}),
        relative_days=phrase_index({int(k): v for k, v in dates["relative_days"].items()}),
        past_words=word_set(dates["past_words"]),
        current_words=word_set(dates["current_words"]),
        words=words,
        judge={group: phrase_index({group: cues[group]}) for group in judge_groups},
    )
