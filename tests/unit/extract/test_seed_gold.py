"""The seeds' gold: every figure 1.0 and no tally leaks (skipped where the seeds are absent)."""

import json
from pathlib import Path

import pytest

from marsad.records import Article
from stream.extract import extract
from stream.extract.evaluate import aggregate, score_article

REPO = Path(__file__).resolve().parents[3]
SEEDS = REPO.parent / "shared" / "seeds" / "gold.jsonl"
DEV = REPO / "tests" / "fixtures" / "dev_gold.jsonl"
DEV2 = REPO / "tests" / "fixtures" / "dev_gold_2.jsonl"


def _score(path: Path):
    scores = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        gold = row.pop("gold")
        article = Article.model_validate(row)
        scores.append(score_article(article.id, gold, extract(article)))
    return aggregate(scores)


@pytest.mark.skipif(not SEEDS.exists(), reason="../shared/seeds is not available")
def test_seed_gold_is_read_perfectly() -> None:
    f = _score(SEEDS)
    assert f.tally_leaks == 0
    for name in (
        "max_toll_exact",
        "alert_precision",
        "alert_recall",
        "incident_precision",
        "incident_recall",
        "largest_admin1",
        "largest_perpetrator",
        "largest_event_type",
    ):
        assert getattr(f, name) == 1.0, name


@pytest.mark.skipif(not DEV.exists(), reason="dev gold set not written yet")
def test_dev_gold_floor() -> None:
    """A floor under the dev figures so a regression shows; not a target."""
    f = _score(DEV)
    assert f.tally_leaks == 0
    assert f.max_toll_exact >= 0.95
    assert f.alert_precision >= 0.95 and f.alert_recall >= 0.95
    assert f.incident_precision >= 0.9 and f.incident_recall >= 0.9


@pytest.mark.skipif(not DEV2.exists(), reason="second dev gold set not written yet")
def test_dev_gold_2_floor() -> None:
    """Phrasings the first dev set lacked (idiomatic death verbs, tolls in words, implied
    counts, rising tolls, accusations, comparisons "منذ عام …"): a floor, not a target."""
    f = _score(DEV2)
    assert f.tally_leaks == 0
    assert f.max_toll_exact >= 0.95
    assert f.alert_precision >= 0.95 and f.alert_recall >= 0.95
    assert f.incident_precision >= 0.95 and f.incident_recall >= 0.95
    assert f.largest_admin1 >= 0.95 and f.largest_perpetrator >= 0.9
