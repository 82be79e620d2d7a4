"""The kernel's vocabulary: the qualifier words are one table, read by the alert's fields and
the extractor's summary line alike."""

from __future__ import annotations

from alerts.labels import QUALIFIER_WORDS
from marsad.records import Incident
from marsad.vocabulary import qualifier_words, vague_word
from stream.extract.summary import summarize


def test_qualifier_words_before_a_number() -> None:
    assert qualifier_words() == {
        "approx": "about ",
        "more_than": "more than ",
        "at_least": "at least ",
        "vague": "~",
    }
    assert qualifier_words() == QUALIFIER_WORDS


def test_vague_round_figures_as_words() -> None:
    assert (vague_word(10), vague_word(100), vague_word(1000)) == ("dozens", "hundreds", None)


def test_the_summary_writes_qualified_figures_from_the_same_table() -> None:
    def figures(**kw: object) -> str:
        return summarize(Incident.model_validate({"perpetrator": "ISIS", **kw})).split(": ")[-1]

    assert figures(killed=12, killed_qualifier="approx") == "about 12 killed"
    assert figures(killed=10, killed_qualifier="vague", injured=30) == "dozens killed, 30 injured"
    assert figures(injured=5, injured_qualifier="at_least") == "at least 5 injured"
