"""The merge step's word weights: rebuilt from their sources they are the shipped table, and
an event's own words weigh more than the words every report uses."""

from __future__ import annotations

import json

from scripts.build_word_weights import SOURCES, build
from stream.merge import WORD_WEIGHTS, similarity, tokens


def test_the_shipped_table_is_what_its_script_builds() -> None:
    shipped = json.loads(WORD_WEIGHTS.read_text(encoding="utf-8"))
    assert shipped == build(), "run scripts/build_word_weights.py and commit the table"


def test_the_weights_come_from_no_test_split_nor_merge_file() -> None:
    names = [s.rsplit("/", 1)[-1] for s in SOURCES]
    assert "test.jsonl" not in names and "holdout_gold.jsonl" not in names
    assert all("/merge/" not in s for s in SOURCES)


def test_common_words_weigh_less_than_an_events_own() -> None:
    weights = json.loads(WORD_WEIGHTS.read_text(encoding="utf-8"))["weights"]
    (killed,) = tokens("مقتل")
    (truffle,) = tokens("الكمأة")
    assert weights[killed] < weights.get(truffle, 99.0)
    # one shared common word and one shared rare word, among the same number of others
    common = similarity("مقتل عامل بقصف ورشة", "مقتل راع بقصف دراجة")
    own = similarity("مقتل عامل بقصف ورشة", "إصابة عامل بغارة ورشة")
    assert own > common
    assert similarity("", "مقتل") == 0.0
    assert similarity("مقتل عنصر", "مقتل عنصر") == 1.0
