"""A tiny, dependency-free language guess from the script of the letters.

Why not a model: Marsad's feeds are Arabic news; what matters downstream is "Arabic or not".
The share of Arabic-script letters decides ``ar``; Latin text is told apart as ``en`` or
``fr`` by a handful of function words; anything else is ``und`` (undetermined).  Persian and
Urdu also use the Arabic script; feeds in those languages should set ``language`` explicitly.
"""

from __future__ import annotations

import re

ARABIC_SHARE = 0.5
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_WORD = re.compile(r"[a-zà-ÿ]+")
_FUNCTION_WORDS = {
    "en": frozenset({"the", "and", "of", "to", "in", "was", "were", "on", "with", "by"}),
    "fr": frozenset({"le", "la", "les", "des", "et", "du", "une", "dans", "sur", "par"}),
}


def detect_language(text: str, sample: int = 4000) -> str:
    """``ar``, ``en``, ``fr`` or ``und`` for ``text`` (only the first ``sample`` chars are read)."""
    head = text[:sample]
    arabic = len(_ARABIC.findall(head))
    latin = len(_LATIN.findall(head))
    letters = arabic + latin
    if letters == 0:
        return "und"
    if arabic / letters >= ARABIC_SHARE:
        return "ar"
    words = _WORD.findall(head.lower())
    scores = {lang: sum(w in vocab for w in words) for lang, vocab in _FUNCTION_WORDS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] >= 2 else "und"
