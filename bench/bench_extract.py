"""Extraction benchmark: accuracy on the gold files and milliseconds per article.

Scores the extractor on the seeds' gold (``../shared/seeds/gold.jsonl``, when present), on
the frozen test split (``tests/fixtures/test.jsonl``: its figures are the README's) and on
the dev gold, then times extraction per article: cold (first read of each text, caches
empty) and warm (the same texts again), and the p95 of the warm times. Throughput is measured
on dense 3–5 KB articles made of several joined multi-incident, rising-toll and tally reports
of the train split, beside a bare regular expression over the same input in the same run
(the ratio says what the reading costs over merely finding numbers next to casualty words).
The last line is JSON for bench/run_all.py.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from marsad.records import Article  # noqa: E402
from stream.extract import extract  # noqa: E402
from stream.extract.confidence import model  # noqa: E402
from stream.extract.evaluate import aggregate, render, score_article  # noqa: E402
from stream.extract.lexicon import lexicon  # noqa: E402
from stream.extract.places import gazetteer  # noqa: E402

GOLD_FILES = {
    "seeds": ROOT.parent / "shared" / "seeds" / "gold.jsonl",
    "test": ROOT / "tests" / "fixtures" / "test.jsonl",
    "dev": ROOT / "tests" / "fixtures" / "dev_gold.jsonl",
}
#: the dense pool for throughput: reports with several figures each (train split only)
DENSE_POOL = ROOT / "tests" / "fixtures" / "train.jsonl"
DENSE_CATEGORIES = ("multi", "rising", "tally")
#: the baseline: a bare regex for a number beside a casualty word, no reading at all
BARE = re.compile(
    r"(\d+|[\u0621-\u064a]+)\s+(?:قتيل|قتلى|قتيلا|قتيلاً|شهيد|شهداء|شهيدا|جريح|جرحى|مصاب|مصابين|"
    r"عنصر|عناصر|مدني|مدنيين|مدنيا|شخص|أشخاص|شخصا)"
)


def _rows(path: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def main() -> int:
    t0 = time.perf_counter()
    lexicon(), gazetteer()
    load_ms = 1000 * (time.perf_counter() - t0)
    figures: dict[str, Any] = {"lexicon_load_ms": round(load_ms, 1)}
    articles: list[Article] = []
    for name, path in GOLD_FILES.items():
        if not path.exists():
            print(f"{name}: {path} not found, skipped")
            continue
        scores = []
        cold: list[float] = []
        for row in _rows(path):
            gold = row.pop("gold")
            row.pop("category", None)
            article = Article.model_validate(row)
            start = time.perf_counter()
            extraction = extract(article)
            cold.append(1000 * (time.perf_counter() - start))
            scores.append(
                score_article(article.id, gold, extraction, None, model().alert_threshold)
            )
            articles.append(article)
        result = aggregate(scores, statistics.fmean(cold))
        print(f"== {name} ({path})")
        print(render(result))
        figures[name] = result.to_dict()
    warm: list[float] = []
    for _ in range(5):
        for article in articles:
            start = time.perf_counter()
            extract(article)
            warm.append(1000 * (time.perf_counter() - start))
    if warm:
        warm.sort()
        figures["warm_ms_per_article"] = round(statistics.fmean(warm), 2)
        figures["warm_p95_ms"] = round(warm[int(0.95 * (len(warm) - 1))], 2)
        chars = statistics.fmean(len(a.text) for a in articles)
        print(
            f"warm: {figures['warm_ms_per_article']} ms/article (p95 {figures['warm_p95_ms']} ms), "
            f"mean article {chars:.0f} characters"
        )
    dense = [
        Article.model_validate({k: v for k, v in row.items() if k not in ("gold", "category")})
        for row in _rows(DENSE_POOL)
        if row.get("category") in DENSE_CATEGORIES
    ]
    if dense:
        figures["throughput_3_5kb"] = throughput(dense)
    print(json.dumps(figures, ensure_ascii=False))
    return 0


def throughput(pool: list[Article], count: int = 500, seed: int = 3) -> dict[str, Any]:
    """Articles/s on one core for distinct 3–5 KB (UTF-8) articles, and the peak RSS.

    Each article joins randomly chosen texts of the gold files until it is 3–5 KB, so no two
    are alike and no per-text cache can flatter the figure; the process is pinned to one CPU.
    """
    import os
    import random
    import resource

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    rng = random.Random(seed)
    batch: list[Article] = []
    while len(batch) < count:
        target = rng.randint(3000, 5000)
        parts: list[str] = []
        while len("\n".join(parts).encode("utf-8")) < target:
            parts.append(rng.choice(pool).text)
        text = "\n".join(parts).encode("utf-8")[:target].decode("utf-8", "ignore")
        base = rng.choice(pool)
        batch.append(base.model_copy(update={"id": f"t{len(batch)}", "text": text}))
    start = time.perf_counter()
    found = sum(len(BARE.findall(article.text)) for article in batch)
    bare_rate = count / (time.perf_counter() - start)
    start = time.perf_counter()
    for article in batch:
        extract(article)
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kb = statistics.fmean(len(a.text.encode("utf-8")) for a in batch) / 1024
    rate = count / elapsed
    print(
        f"throughput: {rate:.0f} articles/s on one core ({count} distinct dense articles, "
        f"mean {kb:.1f} KB), peak RSS {peak_mb:.0f} MB; a bare regex over the same input: "
        f"{bare_rate:.0f} articles/s ({found} matches), {bare_rate / rate:.0f}x faster"
    )
    return {
        "articles_per_s": round(rate, 1),
        "bare_regex_articles_per_s": round(bare_rate, 1),
        "mean_kb": round(kb, 2),
        "peak_rss_mb": round(peak_mb, 1),
    }


if __name__ == "__main__":
    raise SystemExit(main())
