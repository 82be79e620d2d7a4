"""Arabic normalization that remembers where every character came from.

Matching runs on one canonical spelling (alef forms → ا, alef maksura → ي, teh marbuta → ه,
no diacritics or tatweel, ASCII digits, no quote marks), but evidence must quote the
reporter's own words.  So normalization is done character by character and every output
character keeps the index of the original character it came from.

camel-tools does the letter work (its functions are per-character maps, so they can be
applied one character at a time, cached); the rest (digits, quotes, the "الـ 8" form) is ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from camel_tools.utils.dediac import dediac_ar
from camel_tools.utils.normalize import (
    normalize_alef_ar,
    normalize_alef_maksura_ar,
    normalize_teh_marbuta_ar,
    normalize_unicode,
)

TATWEEL = "\u0640"
_DIGITS = {chr(0x0660 + i): str(i) for i in range(10)} | {
    chr(0x06F0 + i): str(i) for i in range(10)
}
#: Quote marks are dropped: "لـ"قسد"" must read as one word, لقسد.
_DROP = set('"“”„‟«»″‘’‚‛`\u200b\u200c\u200d\u200e\u200f\u061c\ufeff') | {TATWEEL}
_SPACE = {"\u00a0", "\u2009", "\u202f", "\t", "\r"}
_DASH = {"–": "-", "—": "-", "―": "-", "‐": "-"}
_PUNCT = {"؟": "?", "٪": "%", "٫": ".", "٬": ","}

#: A clitic written apart with tatweel ("الـ 8", "لـ قوات", "بـ"داعش""): the tatweel and the gap
#: go; before a number or Latin text the article "ال" goes as well.
_TATWEEL_PREFIX = re.compile(r"(?<![\w\u0640])(?P<clitic>[وفبلك]?(?:ال|لل|[لبكو]))\u0640+\s*")
_ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")


@dataclass(frozen=True)
class NormText:
    """Normalized text plus, for each of its characters, the index in the original."""

    text: str
    origin: tuple[int, ...]
    original: str

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalized span [start, end) to the original text's span."""
        if not self.text or start >= end:
            pos = self.origin[start] if start < len(self.origin) else len(self.original)
            return pos, pos
        end = min(end, len(self.text))
        return self.origin[start], self.origin[end - 1] + 1

    def original_slice(self, start: int, end: int) -> str:
        a, b = self.to_original(start, end)
        return self.original[a:b]


@lru_cache(maxsize=4096)
def _char(c: str) -> str:
    """Canonical form of one character ('' when it disappears)."""
    if c in _DROP:
        return ""
    if c in _DIGITS:
        return _DIGITS[c]
    if c in _SPACE:
        return " "
    if c in _DASH:
        return _DASH[c]
    if c in _PUNCT:
        return _PUNCT[c]
    out = normalize_unicode(c)
    out = normalize_alef_ar(out)
    out = normalize_alef_maksura_ar(out)
    out = normalize_teh_marbuta_ar(out)
    out = str(dediac_ar(out))  # camel-tools is untyped
    return out.replace(TATWEEL, "").lower()


def _dropped_by_clitics(text: str) -> set[int]:
    """Indices of the original to skip so detached clitics rejoin their word."""
    drop: set[int] = set()
    for m in _TATWEEL_PREFIX.finditer(text):
        nxt = text[m.end()] if m.end() < len(text) else ""
        clitic = m.group("clitic")
        starts_word = bool(nxt) and (bool(_ARABIC_LETTER.match(_char(nxt) or " ")) or nxt in '"“”«')
        if not starts_word and clitic.endswith("ال"):
            # "الـ 8", "الـ T2": the article before a number/Latin token is noise.
            drop.update(range(m.start(), m.end()))
        else:
            drop.update(range(m.start() + len(clitic), m.end()))
            if not starts_word and text[m.end() - 1].isspace():
                drop.discard(m.end() - 1)  # keep one space: "لـ 8" stays two tokens
    return drop


def normalize(text: str) -> NormText:
    """Normalize Arabic text for matching, keeping a character map back to ``text``."""
    drop = _dropped_by_clitics(text) if TATWEEL in text else set()
    if not drop:
        fast = _normalize_simple(text)
        if fast is not None:
            return fast
    return _normalize_loop(text, drop)


def _normalize_loop(text: str, drop: set[int]) -> NormText:
    """The general case, character by character (clitics to rejoin, expanding characters)."""
    chars: list[str] = []
    origin: list[int] = []
    table = _CHAR_TABLE  # a plain dict: this loop runs once per character of every article
    for i, c in enumerate(text):
        out = table.get(c)
        if out is None:
            out = _char(c)
            if len(table) < 65536:  # hostile input cannot grow it without bound
                table[c] = out
        if not out or (drop and i in drop):
            continue
        if len(out) == 1:
            chars.append(out)
            origin.append(i)
        else:
            for o in out:
                chars.append(o)
                origin.append(i)
    return NormText("".join(chars), tuple(origin), text)


#: Memo of :func:`_char` by character (bounded by the characters that occur in news text).
_CHAR_TABLE: dict[str, str] = {}


def _normalize_simple(text: str) -> NormText | None:
    """The common case in C-speed steps: no clitic to rejoin and every character maps to at
    most one character, so ``str.translate`` gives the text and the kept indices give the map.
    None when the case does not apply (the caller's loop handles it)."""
    table = _CHAR_TABLE
    mapping: dict[int, str] = {}
    kept: set[str] = set()
    for c in set(text):
        out = table.get(c)
        if out is None:
            out = _char(c)
            if len(table) < 65536:
                table[c] = out
        if len(out) > 1:
            return None
        mapping[ord(c)] = out
        if out:
            kept.add(c)
    origin = tuple(i for i, c in enumerate(text) if c in kept)
    return NormText(text.translate(mapping), origin, text)


def norm(text: str) -> str:
    """Just the normalized string (for lexicon entries)."""
    return " ".join(normalize(text).text.split())
