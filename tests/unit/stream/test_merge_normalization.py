"""Merge compares text in the extractor's spelling (``stream.extract.normalize.norm``),
split into words at every non-word character."""

from __future__ import annotations

import pytest

from stream.extract.normalize import norm
from stream.merge import _norm, _place_names, similarity
from tests.unit.stream.helpers import incident


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("قُتِلَ عناصرُ النظام", "قتل عناصر النظام"),  # diacritics
        ("أحمد إدلب آمنة مستشفى المدينة", "احمد ادلب امنه مستشفي المدينه"),  # letter forms
        ("البو-كمال، (دير الزور)", "البو كمال دير الزور"),  # punctuation breaks words
        ("قـتل", "قتل"),  # tatweel inside a word
        ("لـ«قسد»", "ل قسد"),  # a detached clitic stays apart from its word
        ('"داعش"', "داعش"),
        ("قوات\u200cالنظام", "قوات النظام"),  # an invisible mark is a word break
        ("Al-Bukamal", "al bukamal"),
    ],
)
def test_merge_words(text: str, words: str) -> None:
    assert _norm(text) == words


def test_merge_spelling_is_the_extractors() -> None:
    text = "هجومٌ على مواقعِ قوات النظام في مدينة البوكمال"
    assert _norm(text) == norm(text)


def test_digits_in_either_script_are_the_same_word() -> None:
    # the one place merge now differs from its former copy: norm writes ASCII digits
    assert _norm("مقتل ٣٠ عنصرا") == "مقتل 30 عنصرا"
    assert similarity("مقتل ٣٠ عنصرا", "مقتل 30 عنصرا") == 1.0


def test_place_names_drop_the_article_prefix() -> None:
    names = _place_names(incident())
    assert {"البوكمال", "بوكمال", "al bukamal", "bukamal"} <= names
