"""The dev corpus (`tests/fixtures/train.jsonl`, `test.jsonl`) is well formed and honest.

Why: every figure the README reports comes from these files. A typo in a code or a wrong
``max_incident_killed`` would skew them silently, a test article sharing a report or an event
with train would make the held-out figure a tuned one, and a sentence copied from a real
report would break the rule that fixtures are written in our own words.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures"
SEEDS_DIR = REPO.parent / "shared" / "seeds"
SPLITS = ("train", "test")
SPAN_WORDS = 12


def _checker() -> Any:
    spec = importlib.util.spec_from_file_location("check_gold", REPO / "scripts" / "check_gold.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(split: str) -> list[dict[str, Any]]:
    path = FIXTURES / f"{split}.jsonl"
    assert path.is_file(), f"{path} is tracked: missing fails, never skips"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


ROWS = {split: _rows(split) for split in SPLITS}


@pytest.mark.parametrize("split", SPLITS)
def test_every_line_fits_the_gold_conventions(split: str) -> None:
    check = _checker().check_line
    problems = {row["id"]: check(row) for row in ROWS[split]}
    assert {k: v for k, v in problems.items() if v} == {}


def test_sizes_categories_and_outlets() -> None:
    train, test = ROWS["train"], ROWS["test"]
    assert len(test) >= 100
    assert len(train) + len(test) >= 300
    outlets = {row["source"] for row in train + test}
    assert len(outlets) >= 40
    for split in SPLITS:
        cats = Counter(row["category"] for row in ROWS[split])
        assert set(cats) == {"single", "rising", "multi", "tally", "negative"}, split
        assert min(cats.values()) >= 0.1 * len(ROWS[split]), (split, cats)
    years = {row["published_at"][:4] for row in train + test}
    assert {"2017", "2025"} <= years


def test_ids_and_report_addresses_are_unique_and_never_shared_between_splits() -> None:
    ids = [row["id"] for s in SPLITS for row in ROWS[s]]
    assert len(ids) == len(set(ids))
    urls = {s: [row["url"] for row in ROWS[s]] for s in SPLITS}
    assert all(u.startswith("http") for s in SPLITS for u in urls[s])
    assert len(set(urls["train"])) == len(urls["train"])
    assert set(urls["train"]).isdisjoint(urls["test"])


def _events(row: dict[str, Any]) -> set[tuple[str, str, int]]:
    out = set()
    for inc in row["gold"]["incidents"]:
        if inc.get("occurred_on") and inc.get("killed"):
            admin1 = inc["admin1"] if isinstance(inc["admin1"], list) else [inc["admin1"]]
            out |= {(inc["occurred_on"], a, inc["killed"]) for a in admin1}
    return out


def test_no_event_of_the_test_split_is_in_train() -> None:
    """Same day, governorate and toll: the same event told by another outlet."""
    train_events = set().union(*(_events(r) for r in ROWS["train"]))
    shared = {r["id"]: _events(r) & train_events for r in ROWS["test"]}
    assert {k: v for k, v in shared.items() if v} == {}


def _spans(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text)
    return {tuple(words[i : i + SPAN_WORDS]) for i in range(len(words) - SPAN_WORDS + 1)}


def test_no_sentence_is_copied_from_the_seeds() -> None:
    assert SEEDS_DIR.is_dir(), "../shared/seeds is missing: the check must run, not skip"
    seeds: set[tuple[str, ...]] = set()
    for path in sorted(SEEDS_DIR.glob("*.txt")):
        seeds |= _spans(path.read_text(encoding="utf-8"))
    copied = [
        row["id"]
        for s in SPLITS
        for row in ROWS[s]
        if _spans(row["title"] + "\n" + row["text"]) & seeds
    ]
    assert copied == []


def test_the_span_check_detects_a_copied_sentence() -> None:
    sentence = "قتل سبعة مدنيين وجرح اثنا عشر آخرون جراء غارة جوية على أطراف بلدة في الريف"
    assert _spans(sentence) & _spans(f"مقدمة مختلفة. {sentence} وخاتمة.")
