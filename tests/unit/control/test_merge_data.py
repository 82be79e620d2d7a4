"""The merge evaluation set is well formed, and its test split is the frozen one.

Why: merge figures are computed over which reports share a gold ``event``; a malformed line
or a reused id silently changes them, and a test split edited after rules were tuned would
make its figures a tuning result (``tests/fixtures/merge/README.md``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from scripts.check_merge_gold import check_file

MERGE = Path(__file__).resolve().parents[2] / "fixtures" / "merge"
FILES = [
    "test_a.jsonl",
    "test_b.jsonl",
    "dev.jsonl",
    "dev_b.jsonl",
    "dev_c.jsonl",
    "dev_d.jsonl",
    "dev_e.jsonl",
    "dev_f.jsonl",
    "dev_g.jsonl",
    "dev_h.jsonl",
    "dev_i.jsonl",
    "dev_j.jsonl",
    "dev_k.jsonl",
    "dev_l.jsonl",
    "dev_m.jsonl",
    "dev_n.jsonl",
    "dev_o.jsonl",
]
#: the frozen test split: change it only with a new split and a new README figure
FROZEN = {
    "test_a.jsonl": "a714549318bd170f37035b328ea15dc865f6bf53630127d22289060797e40fcb",
    "test_b.jsonl": "ec73947beff3482b5527ec3086b2bc3638d89b0ee5fc6b040dbb1872e110dea4",
}


@pytest.mark.parametrize("name", FILES)
def test_every_merge_file_passes_the_checker(name: str) -> None:
    path = MERGE / name
    assert path.is_file(), f"{path} is missing"
    assert check_file(path) == []


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_the_test_split_is_frozen(name: str) -> None:
    assert hashlib.sha256((MERGE / name).read_bytes()).hexdigest() == FROZEN[name]


def test_report_and_event_ids_belong_to_one_file() -> None:
    """Files are scored one by one or together; an id in two files would join them."""
    owner: dict[str, str] = {}
    for name in FILES:
        for line in (MERGE / name).read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            for key in (obj["id"], obj["gold"]["event"]):
                assert owner.setdefault(key, name) == name, f"{key} in {owner[key]} and {name}"
