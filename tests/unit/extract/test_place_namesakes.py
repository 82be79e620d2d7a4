"""Names two countries share ("الرصافة": a Raqqa town and Baghdad's east bank): the place
indexed under the name is the default; the text's other places and country words pick the
namesake of the country it is about."""

from __future__ import annotations

from typing import Any

import pytest

from stream.extract.places import build_gazetteer, find_places, gazetteer
from tests.unit.extract.conftest import words_of


def _entry(name: str, aliases: list[str], admin1: str, **extra: Any) -> dict[str, Any]:
    return {
        "name_en": name,
        "aliases_ar": aliases,
        "kind": extra.pop("kind", "town"),
        "admin1": admin1,
        "country": admin1[:2],
        "lat": 35.0,
        "lon": 40.0,
        **extra,
    }


ENTRIES = [
    _entry("Town A", ["الرصافة"], "SY-RA"),
    _entry("Raqqa", ["الرقة"], "SY-RA", kind="city"),
    _entry("Mosul", ["الموصل"], "IQ-NI", kind="city"),
    _entry("Quarter B", ["جانب الرصافة"], "IQ-BG", namesakes_ar=["الرصافة"]),
]


def _names(text: str) -> list[str]:
    return [m.place.name_en for m in find_places(words_of(text), build_gazetteer(ENTRIES))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("انفجار في الرصافة قرب الرقة", ["Town A", "Raqqa"]),
        ("انفجار في الرصافة وآخر في الموصل", ["Quarter B", "Mosul"]),
        ("انفجار في الرصافة أعلنت عنه القوات العراقية", ["Quarter B"]),  # a country word
        ("انفجار في الرصافة", ["Town A"]),  # nothing says: the indexed place
        ("انفجار في الرصافة وفي الرقة وفي الموصل", ["Town A", "Raqqa", "Mosul"]),  # a tie
    ],
)
def test_the_texts_country_picks_the_namesake(text: str, expected: list[str]) -> None:
    assert _names(text) == expected


def test_a_namesake_must_be_a_name_of_a_place_in_another_country() -> None:
    nobody = [*ENTRIES, _entry("C", ["ج"], "IQ-BG", namesakes_ar=["لا أحد"])]
    with pytest.raises(ValueError, match="no name of a place in another country"):
        build_gazetteer(nobody)
    same_country = [*ENTRIES, _entry("D", ["د"], "SY-RA", namesakes_ar=["الرقة"])]
    with pytest.raises(ValueError, match="another country"):
        build_gazetteer(same_country)


@pytest.mark.parametrize(
    ("text", "admin1"),
    [
        ("قصف مقر في الرصافة ببغداد", "IQ-BG"),
        ("هجوم على حاجز قرب الرصافة جنوبي الرقة", "SY-RA"),
        ("انفجار دراجة مفخخة في سوق بالحسينية شمال شرقي بغداد", "IQ-BG"),
        ("قصف على بلدة الحسينية في ريف دير الزور", "SY-DY"),
    ],
)
def test_the_shipped_gazetteer_tells_baghdads_places_from_their_syrian_namesakes(
    text: str, admin1: str
) -> None:
    assert find_places(words_of(text), gazetteer())[0].place.admin1 == admin1
