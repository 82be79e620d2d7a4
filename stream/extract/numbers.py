"""Numbers as reporters write them: digits, words, duals, vague round quantities.

This module only reads quantities ("ثمانية آلاف" = 8000, "عنصرين" = 2, "عشرات" = 10 vague)
and their qualifiers ("نحو" approx, "أكثر من" more_than, "على الأقل" at_least).  Whether a
quantity is a casualty count is decided in :mod:`stream.extract.casualties`.
"""

from __future__ import annotations

from dataclasses import dataclass

from marsad.records import QuantityKind
from stream.extract.lexicon import Lexicon

_DIGITS = frozenset("0123456789")


@dataclass(frozen=True)
class Quantity:
    start: int  # token indices [start, end) of the number itself
    end: int
    value: int
    kind: QuantityKind
    qualifier: str | None = None  # approx | more_than | at_least | vague


def _digit_value(tok: str) -> int | None:
    if not tok or tok[0] not in _DIGITS or "." in tok:
        return None
    return int(tok.replace(",", ""))


def _word_value(word: str, lex: Lexicon) -> tuple[str, int] | None:
    if word in lex.units:
        return "unit", lex.units[word]
    if word in lex.tens:
        return "unit", lex.tens[word]
    if word in lex.hundreds:
        return "unit", lex.hundreds[word]
    if word in lex.multipliers:
        return "mult", lex.multipliers[word]
    return None


def _read_words(words: list[str], i: int, lex: Lexicon) -> tuple[int, int] | None:
    """Parse a compound number word starting at i: (value, end index)."""
    first = _word_value(words[i], lex)
    if first is None:
        return None
    total = cur = 0
    j = i
    while j < len(words):
        word = words[j]
        if j > i:
            nxt = _word_value(word, lex)
            joined = word.startswith("و") and _word_value(word[1:], lex) is not None
            if nxt is not None and (nxt[0] == "mult" or word in ("عشر", "عشره")):
                pass
            elif joined:
                word = word[1:]
                nxt = _word_value(word, lex)
            else:
                break
        kind_value = _word_value(word, lex)
        if kind_value is None:
            break
        kind, value = kind_value
        if kind == "unit":
            cur += value
        else:
            cur = (cur or 1) * value
            if value >= 1000:
                total += cur
                cur = 0
        j += 1
    return total + cur, j


def _qualifier(words: list[str], start: int, end: int, lex: Lexicon) -> str | None:
    for back in range(1, 5):
        i = start - back
        if i < 0:
            break
        m = lex.qualifiers_before.match_at(words, i)
        if m is not None and m.end == start:
            return m.value
    for i in (end, end + 1):
        if i < len(words):
            m = lex.qualifiers_after.match_at(words, i)
            if m is not None:
                return m.value
    return None


def find_quantities(words: list[str], lex: Lexicon) -> list[Quantity]:
    """Every quantity in the token list, left to right, non-overlapping."""
    out: list[Quantity] = []
    i = 0
    n = len(words)
    while i < n:
        word = words[i]
        value = _digit_value(word)
        if value is not None:
            end = i + 1
            if end < n and words[end] in lex.multipliers:
                mult = lex.multipliers[words[end]]
                value *= mult
                end += 1
                # "3 آلاف و364": the remainder after the thousands
                rest = _digit_value(words[end + 1]) if end + 1 < n and words[end] == "و" else None
                if rest is not None and rest < mult:
                    value += rest
                    end += 2
            out.append(Quantity(i, end, value, "digit", _qualifier(words, i, end, lex)))
            i = end
            continue
        bare = word[1:] if word[:1] in ("و", "ف", "ب", "ل") and len(word) > 3 else word
        if word in lex.vague or bare in lex.vague:
            out.append(
                Quantity(i, i + 1, lex.vague.get(word, lex.vague.get(bare, 0)), "vague", "vague")
            )
            i += 1
            continue
        definite = word[2:] if word.startswith("ال") else ""
        if word in lex.dual_nouns or bare in lex.dual_nouns or definite in lex.dual_nouns:
            # "مدنيان", "وعنصرين", and named pairs "الطفلين عبد الرحمن وأحمد", "المدنيان …"
            end = i + 1
            if end < n and lex.units.get(words[end]) == 2:
                end += 1  # "مدنيان اثنان": one count of two
            out.append(Quantity(i, end, 2, "dual", None))
            i = end
            continue
        if i and words[i - 1] in lex.ordinals and lex.units.get(word) == 10:
            i += 1  # "السابعة عشرة": seventeenth, not ten
            continue
        parsed = _read_words(words, i, lex)
        if parsed is None and bare != word and _word_value(bare, lex) is not None:
            # "وثلاثة جرحى": the conjunction is glued to the first number word
            parsed = _read_words([*words[:i], bare, *words[i + 1 :]], i, lex)
        if parsed is not None:
            value, end = parsed
            out.append(Quantity(i, end, value, "word", _qualifier(words, i, end, lex)))
            i = end
            continue
        i += 1
    return out
