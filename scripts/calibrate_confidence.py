"""Fit ``stream/extract/data/confidence.yaml`` on the train split and the seeds (never on the
frozen test split).

Each extracted current incident is labelled right (1) when it matches a gold incident of its
article one to one (same toll, an acceptable governorate), else wrong (0); a logistic
regression over the rule signals of ``stream/extract/confidence.py`` is fitted to those
labels (plain gradient descent with a small L2 penalty: a dozen 0/1 features need no
library). The main-channel alert threshold is then chosen on the same split: among the
thresholds that keep article-level main-channel recall (killed >= 10) at MIN_RECALL or more,
the one with the best precision, and on ties the highest (it sends the most weak readings to
review at no cost on train). What falls below goes to the review channel, so nothing is lost;
the recall floor bounds how much a desk must fish out of review.

Usage: python scripts/calibrate_confidence.py [GOLD.jsonl ...]
(default: tests/fixtures/train.jsonl and ../shared/seeds/gold.jsonl)
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from marsad.records import Article  # noqa: E402
from stream.extract import extract  # noqa: E402
from stream.extract.confidence import SIGNALS  # noqa: E402
from stream.extract.evaluate import ALERT_THRESHOLD, gold_max, scored_killed  # noqa: E402

OUT = REPO / "stream" / "extract" / "data" / "confidence.yaml"
L2 = 0.5
MIN_RECALL = 0.9
STEPS = 4000
RATE = 0.3


def _admin_ok(gold: dict[str, Any], admin1: str | None) -> bool:
    accepted = gold.get("admin1") or []
    accepted = accepted if isinstance(accepted, list) else [accepted]
    return not accepted or admin1 in accepted


#: Per article: its gold largest toll, and per incident read (toll read, signals that fired).
Scored = list[tuple[int | None, list[tuple[int | None, list[int]]]]]


def labelled(path: Path) -> tuple[list[tuple[list[int], int]], Scored]:
    samples: list[tuple[list[int], int]] = []
    articles: Scored = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        gold = row.pop("gold")
        row.pop("category", None)
        ex = extract(Article.model_validate(row))
        free = list(gold["incidents"])
        scored: list[tuple[int | None, list[int]]] = []
        for inc in ex.incidents:
            if inc.background:
                continue
            admin1 = inc.location.admin1 if inc.location else None
            hit = next(
                (g for g in free if g.get("killed") == scored_killed(inc) and _admin_ok(g, admin1)),
                None,
            )
            if hit is not None:
                free.remove(hit)
            x = [int(s in inc.confidence_signals) for s in SIGNALS]
            samples.append((x, int(hit is not None)))
            scored.append((scored_killed(inc), x))
        articles.append((gold_max(gold), scored))
    return samples, articles


def fit(samples: list[tuple[list[int], int]]) -> tuple[float, list[float]]:
    n, k = len(samples), len(SIGNALS)
    w, b = [0.0] * k, 0.0
    for _ in range(STEPS):
        gw, gb = [0.0] * k, 0.0
        for x, y in samples:
            p = 1 / (1 + math.exp(-(b + sum(wi * xi for wi, xi in zip(w, x, strict=True)))))
            err = p - y
            gb += err
            for i, xi in enumerate(x):
                gw[i] += err * xi
        b -= RATE * gb / n
        w = [wi - RATE * (gwi / n + L2 * wi / n) for wi, gwi in zip(w, gw, strict=True)]
    return b, w


def choose_threshold(articles: Scored, b: float, w: list[float]) -> tuple[float, dict[str, Any]]:
    def conf(x: list[int]) -> float:
        return 1 / (1 + math.exp(-(b + sum(wi * xi for wi, xi in zip(w, x, strict=True)))))

    best: tuple[float, float, dict[str, Any]] = (0.0, 0.0, {})
    for step in range(0, 100):
        t = step / 100
        tp = fp = fn = 0
        for g_max, scored in articles:
            gold_alert = g_max is not None and g_max >= ALERT_THRESHOLD
            pred_alert = any(
                k is not None and k >= ALERT_THRESHOLD and conf(x) >= t for k, x in scored
            )
            tp += gold_alert and pred_alert
            fp += pred_alert and not gold_alert
            fn += gold_alert and not pred_alert
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        if r >= MIN_RECALL and p >= best[0] - 1e-9:
            best = (p, t, {"precision": round(p, 3), "recall": round(r, 3)})
    return best[1], best[2]


def main() -> None:
    paths = [Path(a) for a in sys.argv[1:]] or [
        REPO / "tests" / "fixtures" / "train.jsonl",
        REPO.parent / "shared" / "seeds" / "gold.jsonl",
    ]
    if any("test" in p.name for p in paths):
        raise SystemExit("the frozen test split is never used for calibration")
    samples, articles = [], []
    for path in paths:
        s, a = labelled(path)
        samples += s
        articles += a
    b, w = fit(samples)
    threshold, at = choose_threshold(articles, b, w)
    right = sum(y for _, y in samples)
    doc = {
        "bias": round(b, 4),
        "weights": {s: round(wi, 4) for s, wi in zip(SIGNALS, w, strict=True)},
        "fitted_on": f"{' + '.join(p.name for p in paths)} (train split and seeds): "
        f"{len(samples)} incidents, {right} right",
        "alert_threshold": threshold,
    }
    header = (
        "# Written by scripts/calibrate_confidence.py (do not edit by hand): a logistic "
        "regression over\n# the signals of stream/extract/confidence.py, fitted on the train "
        f"split and the seeds. Main-channel alerts\n# there at alert_threshold: {at}\n"
    )
    OUT.write_text(header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    print(OUT.read_text())


if __name__ == "__main__":
    main()
