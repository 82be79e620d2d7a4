"""Tokens, sentences and clauses of a normalized article.

Reports pack a whole battle into one comma-chained sentence ("ارتفع إلى 41 …، كما ارتفع
إلى 23 …، وبذلك يرتفع إلى 239 … منذ …"), so the sentence is too coarse to decide what a
number is.  Clauses end at a comma followed by a connective (كما، حيث، وبذلك …), at a bare
"إذ", and where a different event is brought in ("بعد يوم من …", "سبق ذلك …").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from stream.extract.lexicon import Lexicon, prefix_forms

# Digits with thousands separators stay one token ("3,000"); letters and digits split.
_TOKEN_RE = re.compile(
    r"[a-z]+-?\d+[a-z\d]*|\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?|[^\W\d_]+|[^\w\s]"
)
_SENTENCE_END = {".", "!", "?", "…", "؟"}
_CLAUSE_PUNCT = {"،", ",", "؛", ";", ":"}
#: tokens a backward look stops at ("… على حاجز، قتل عنصر من X": the comma parts the phrases)
PHRASE_STOPS = frozenset({"،", ",", ".", ":", "؛", "(", ")", "-"})


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Clause:
    start: int  # token indices [start, end)
    end: int


@dataclass(frozen=True)
class Sentence:
    index: int
    start: int
    end: int
    clauses: tuple[Clause, ...]


def tokenize(text: str) -> list[Token]:
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]


def split_sentences(text: str, tokens: list[Token]) -> list[tuple[int, int]]:
    """Token ranges of sentences: a line break or a full stop ends one."""
    spans: list[tuple[int, int]] = []
    start = 0
    for i, tok in enumerate(tokens):
        if i > start and "\n" in text[tokens[i - 1].end : tok.start]:
            spans.append((start, i))
            start = i
        if tok.text in _SENTENCE_END:
            spans.append((start, i + 1))
            start = i + 1
    if start < len(tokens):
        spans.append((start, len(tokens)))
    return [(a, b) for a, b in spans if b > a]


def _opens_clause(words: list[str], j: int, lex: Lexicon) -> bool:
    first = words[j]
    two = f"{first} {words[j + 1]}" if j + 1 < len(words) else first
    return (
        first in lex.connectives
        or two in lex.connectives
        or any(f in lex.connectives for f in prefix_forms(first)[1:2])
    )


def opens_distribution(words: list[str], j: int, end: int) -> bool:
    """ "…: 6 في مدينة الباب، و3 في عفرين": each share of a count spread over places is a
    clause of its own."""
    prev = words[j - 1]
    if prev == ":" and words[j][:1].isdigit():
        return j + 1 < end and words[j + 1] == "في"
    return (
        prev in ("،", ",")
        and words[j] == "و"
        and j + 2 < end
        and words[j + 1][:1].isdigit()
        and words[j + 2] == "في"
        and ":" in words[max(0, j - 12) : j]
    )


def split_clauses(words: list[str], start: int, end: int, lex: Lexicon) -> tuple[Clause, ...]:
    cuts = [start]
    for j in range(start + 1, end):
        prev = words[j - 1]
        if (
            (prev in _CLAUSE_PUNCT and _opens_clause(words, j, lex))
            or (words[j] in lex.bare_connectives and j - 1 > cuts[-1])
            or opens_distribution(words, j, end)
        ):
            cuts.append(j)
        elif words[j] in lex.words.aside_openers and j - 1 > cuts[-1]:
            m = lex.cues["aside"].match_at(words, j)
            if m is not None:
                cuts.append(j)
    cuts.append(end)
    return tuple(Clause(a, b) for a, b in pairwise(cuts) if b > a)


def segment(text: str, tokens: list[Token], lex: Lexicon) -> list[Sentence]:
    words = [t.text for t in tokens]
    out: list[Sentence] = []
    for k, (a, b) in enumerate(split_sentences(text, tokens)):
        out.append(Sentence(k, a, b, split_clauses(words, a, b, lex)))
    return out
