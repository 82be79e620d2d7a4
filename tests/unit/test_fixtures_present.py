"""Every gold file the evaluation baseline names is there: a renamed or lost fixture fails here,
by name, instead of turning a floor off.

The gate (``marsad eval --gate``) fails on a missing gold file too; this check runs with the
unit tests, so ``pytest`` alone cannot pass with a floor silently gone. ``../shared/seeds`` is
provided beside the checkout (in CI as well), so it is required like the tracked fixtures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stream.extract.gate import load_baseline

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / "tests" / "fixtures" / "eval_baseline.json"
SETS = load_baseline(BASELINE).sets


def test_the_baseline_names_gold_sets() -> None:
    assert len(SETS) >= 2, f"{BASELINE} names {sorted(SETS)}"


@pytest.mark.parametrize("name", sorted(SETS))
def test_every_gold_file_of_the_baseline_exists_with_its_articles(name: str) -> None:
    pinned = SETS[name]
    path = REPO / pinned.gold
    assert path.is_file(), f"gold set {name!r}: {pinned.gold} is missing (it must fail, not skip)"
    rows = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) == pinned.articles, (
        f"{pinned.gold}: {len(rows)} articles, pinned {pinned.articles}"
    )
