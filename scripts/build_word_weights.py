"""Build ``stream/data/word_weights.json``: how much each word says about *which* event a
report tells (inverse document frequency), for the merge step's text similarity.

Why: a plain word overlap counts "قتل", "قوات", "عناصر" as much as "ورشة", "الكمأة" or a
village's name, so two same-day strikes by one actor look as alike as two reports of one
strike. Weighting each word by how rare it is across many conflict reports lets an event's
own words decide (``stream.merge.similarity``).

Source: the extraction corpora's training and development reports (``tests/fixtures/
train.jsonl``, ``dev_gold.jsonl``, ``dev_gold_2.jsonl``): many outlets, many years, written
for this project. Never the extraction test split nor any merge-set file, so no figure is
measured on the text the weights were counted from. Words are the merge step's own tokens
(``stream.merge.tokens``); only words in at least two reports are kept (a word seen once or
never weighs as ``rare``).

    .venv/bin/python scripts/build_word_weights.py          # rewrite the table
    .venv/bin/python scripts/build_word_weights.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stream.merge import WORD_WEIGHTS, tokens  # noqa: E402  (the merge step's tokens)

SOURCES = (
    "tests/fixtures/train.jsonl",
    "tests/fixtures/dev_gold.jsonl",
    "tests/fixtures/dev_gold_2.jsonl",
)


def build(root: Path = REPO) -> dict[str, Any]:
    df: Counter[str] = Counter()
    n = 0
    for source in SOURCES:
        for line in (root / source).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            report = json.loads(line)
            df.update(tokens(f"{report.get('title') or ''} {report['text']}"))
            n += 1

    def weight(count: int) -> float:
        return round(math.log((n + 1) / (count + 1)), 3)

    return {
        "about": "inverse document frequency of the merge step's words (build_word_weights.py)",
        "sources": list(SOURCES),
        "documents": n,
        "rare": weight(1),
        "weights": {w: weight(c) for w, c in sorted(df.items()) if c >= 2},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether it is current")
    args = parser.parse_args()
    table = build()
    text = json.dumps(table, ensure_ascii=False, indent=0, sort_keys=False) + "\n"
    if args.check:
        current = WORD_WEIGHTS.read_text(encoding="utf-8") == text
        print("up to date" if current else f"{WORD_WEIGHTS} is out of date: rebuild it")
        return 0 if current else 1
    WORD_WEIGHTS.write_text(text, encoding="utf-8")
    print(f"{WORD_WEIGHTS}: {len(table['weights'])} words from {table['documents']} reports")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
