"""Display names for the contract's codes, shared by every room that writes for people.

Actor names and the words that qualify a figure ("about 12", "dozens killed") are data
(``data/vocabulary.yaml``); governorate names come from the gazetteer's
governorate entries (``data/places.yaml``), the one list of places, so a
governorate added there is named correctly in alerts too. Unknown codes fall back to the
code itself: a new code upstream never breaks rendering.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

ActorForm = Literal["label", "phrase", "ar"]

#: The kernel's data: display names, and the gazetteer the extractor resolves places with.
DATA_DIR = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def _vocabulary() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load((DATA_DIR / "vocabulary.yaml").read_text("utf-8"))
    return raw


@lru_cache(maxsize=1)
def _actors() -> dict[str, dict[str, str]]:
    return {code: dict(names) for code, names in _vocabulary()["actors"].items()}


@lru_cache(maxsize=1)
def _governorates() -> dict[str, str]:
    text = (DATA_DIR / "places.yaml").read_text("utf-8")
    places = yaml.safe_load(text)["places"]
    return {
        p["admin1"]: p["name_en"].removesuffix(" Governorate")
        for p in places
        if p["kind"] == "governorate"
    }


def actor_name(code: str, form: ActorForm = "label") -> str:
    """``label`` for an alert field, ``phrase`` inside an English sentence, ``ar`` for Arabic."""
    return _actors().get(code, {}).get(form, code)


def qualifier_words() -> dict[str, str]:
    """What stands before a qualified figure, by qualifier: ``{"approx": "about ", …}``
    (a fresh dict; an exact figure's qualifier is not in it)."""
    return {q: str(w) for q, w in _vocabulary()["qualifiers"]["before_number"].items()}


def vague_word(value: int) -> str | None:
    """A vague round figure as a word ("dozens" for 10), ``None`` when it has none."""
    words: dict[int, str] = _vocabulary()["qualifiers"]["vague_as_word"]
    return words.get(value)


def governorate_name(code: str | None) -> str | None:
    """English name of an ISO 3166-2 governorate code ("SY-DY" -> "Deir ez-Zor")."""
    if not code:
        return None
    return _governorates().get(code, code)
