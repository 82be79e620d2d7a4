"""Lexicon files are checked against their schema at load: a mistake names file and key."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from marsad.vocabulary import DATA_DIR as PLACES_DIR
from stream.extract.lexicon import DATA_DIR, lexicon, load_yaml
from stream.extract.schema import (
    ActorsFile,
    CuesFile,
    DatesFile,
    LexiconError,
    NumbersFile,
    PlacesFile,
    TriggersFile,
    WordsFile,
    validate,
)

SHIPPED: dict[str, type[BaseModel]] = {
    "actors.yaml": ActorsFile,
    "triggers.yaml": TriggersFile,
    "cues.yaml": CuesFile,
    "numbers.yaml": NumbersFile,
    "dates.yaml": DatesFile,
    "words.yaml": WordsFile,
    "places.yaml": PlacesFile,
}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shipped_file_fits_its_schema(name: str) -> None:
    folder = PLACES_DIR if name == "places.yaml" else DATA_DIR
    validate(name, load_yaml(name, folder), SHIPPED[name])


def test_a_misspelt_group_names_the_file_and_the_key() -> None:
    raw = load_yaml("cues.yaml")
    raw["risng"] = raw.pop("rising")
    with pytest.raises(LexiconError) as err:
        validate("cues.yaml", raw, CuesFile)
    assert str(err.value).startswith("cues.yaml: ")
    assert "rising" in str(err.value) or "risng" in str(err.value)


def test_a_number_where_a_word_belongs_names_its_position() -> None:
    raw = load_yaml("words.yaml")
    raw["both_sides"] = ["الطرفين", ""]
    with pytest.raises(LexiconError, match=r"words.yaml: both_sides\.1: "):
        validate("words.yaml", raw, WordsFile)


def test_a_number_map_refuses_words_as_values() -> None:
    raw = load_yaml("numbers.yaml")
    raw["units"]["واحد"] = "one"
    with pytest.raises(LexiconError, match=r"numbers.yaml: units\.واحد: "):
        validate("numbers.yaml", raw, NumbersFile)


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(LexiconError, match=r"dates\.yaml: the file is empty"):
        validate("dates.yaml", None, DatesFile)


def test_word_groups_are_normalized_like_article_text() -> None:
    w = lexicon().words
    assert "اصيب" in w.singular_verbs  # written "أصيب" in words.yaml
    assert w.month_parts["بدايه"] == 1  # written with a ta marbuta


def test_a_lexicon_file_mistake_names_its_line() -> None:
    from stream.extract.schema import lexicon_file

    with pytest.raises(LexiconError) as err:
        lexicon_file(DatesFile).parse("months:\n  1: [كانون الثاني]\nmonthz: {}\n", "dates.yaml")
    assert str(err.value).startswith("dates.yaml:1: weekdays: Field required")
    assert "\n  dates.yaml:3: monthz: Extra inputs are not permitted" in str(err.value)
