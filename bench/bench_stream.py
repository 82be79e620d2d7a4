"""Stream benchmark: sustained articles/s through the Faust app on a real Kafka broker.

Publishes ``--articles`` synthetic Arabic reports (written from templates here: attacks,
clashes, strikes and tallies across Syrian governorates, many events reported several times
with rising tolls) to ``articles``, and times ``marsad stream`` workers — real extractor,
merge, rules, tables with changelogs — from the first publish until the app's consumer group
has committed everything on ``articles`` and its internal topics. Runs once per entry of
``--workers`` (each with a fresh app id, so each starts with empty state).

Uses ``MARSAD_KAFKA_BOOTSTRAP`` when set, else a throw-away local broker on free ports.
Figures: articles/s per worker count, alerts and incident updates produced, extraction-only
articles/s for reference. The last line is JSON for bench/run_all.py.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from control.replay import StreamRun, run_through_stream  # noqa: E402
from marsad.records import Article  # noqa: E402
from marsad.topics import Topics, ensure_topics  # noqa: E402

TOPICS = Topics()  # the contract's names: the benchmark runs its own broker
INCIDENTS = TOPICS.incidents

PLACES = ["البوكمال", "الميادين", "تدمر", "سراقب", "الباب", "الطبقة", "نوى", "الشدادي", "دير الزور"]
ACTORS = [
    ("تنظيم الدولة الإسلامية", "قوات النظام"),
    ("هيئة تحرير الشام", "قوات النظام"),
    ("قوات النظام", "فصائل المعارضة"),
    ("مجهولون", "عناصر من قوات سوريا الديمقراطية"),
]
DAYS = ["السبت", "الأحد", "الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة"]
TEMPLATES = [
    "شن عناصر {a} فجر اليوم هجوماً على مواقع {t} في مدينة {p}، ما أسفر عن مقتل {k} عنصراً.",
    "ارتفع إلى {k} عدد القتلى من {t} في الهجوم الذي نفذه {a} على {p} منذ صباح أمس.",
    "قتل {k} عنصراً من {t} خلال اشتباكات مع {a} في محيط {p} يوم {d}.",
    "قصفت طائرات حربية بلدة {p} أمس، ما أدى إلى مقتل {k} مدنيين وإصابة آخرين.",
    "انفجرت عبوة ناسفة بسيارة تقل عناصر من {t} قرب {p}، ما أسفر عن مقتل {k} منهم.",
    "ارتفع عدد قتلى {t} منذ مطلع الشهر الماضي إلى {n} عنصراً في ريف {p}.",
]


def synthetic_articles(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    base = 1_528_400_000  # June 2018
    for i in range(n):
        event = i // 3  # about three reports per event
        erng = random.Random(seed * 1_000_003 + event)
        a, t = erng.choice(ACTORS)
        place = erng.choice(PLACES)
        killed = erng.randint(2, 40) + (i % 3) * erng.randint(0, 8)
        text = rng.choice(TEMPLATES).format(
            a=a, t=t, p=place, k=killed, n=killed * 9, d=erng.choice(DAYS)
        )
        ts = base + event * 3600 * 3 + (i % 3) * 1800
        out.append(
            {
                "id": f"bench-{i}",
                "title": f"{a} و{t} في {place}",
                "text": text,
                "published_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ts)),
                "source": rng.choice(["SOHR", "Orient News", "Enab Baladi", "AFP"]),
            }
        )
    return out


def extraction_rate(articles: list[dict[str, Any]]) -> float:
    from stream.extract import extract

    sample = [Article.model_validate(a) for a in articles[:500]]
    t0 = time.perf_counter()
    for art in sample:
        extract(art)
    return len(sample) / (time.perf_counter() - t0)


def run_once(
    bootstrap: str, articles: list[dict[str, Any]], workers: int, tmp: Path, timeout: float = 600.0
) -> dict[str, Any]:
    """One pass through ``marsad stream`` workers, the steps of ``marsad replay``; timed from
    the first publish (after the workers have joined) until the group has drained."""
    app_id = f"bench-stream-{secrets.token_hex(3)}"
    run_prefix = f"{app_id}-"
    lines: list[tuple[str | None, bytes]] = []
    for a in articles:
        value = dict(a, id=run_prefix + a["id"])
        lines.append((value["id"], json.dumps(value, ensure_ascii=False).encode()))
    run = StreamRun(bootstrap, TOPICS, app_id, tmp / app_id, workers=workers)
    run.position()
    try:
        got = run_through_stream(run, lines, timeout, ready_timeout=180, publish_when_ready=True)
    finally:
        run.stop()
    elapsed = got.drained_at - got.published_at
    alerts = got.alerts
    incidents = run.read_back(INCIDENTS)
    mine = [
        v for _k, v in incidents if v and str(v.get("article_ids", [""])[0]).startswith(run_prefix)
    ]
    return {
        "workers": workers,
        "articles": len(articles),
        "seconds": round(elapsed, 2),
        "publish_seconds": round(got.published_s, 2),
        "articles_per_s": round(len(articles) / elapsed, 1),
        "alert_revisions": len(alerts),
        "alerts": len({v["id"] for v in alerts}),
        "duplicate_revisions": len(alerts) - len({(v["id"], v["revision"]) for v in alerts}),
        "incident_updates": len(mine),
        "alerts_by_rule": dict(Counter(v["rule"] for v in alerts)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds a run may take to drain"
    )
    args = parser.parse_args()
    articles = synthetic_articles(args.articles)
    ext_rate = extraction_rate(articles)
    print(f"extraction alone: {ext_rate:.0f} articles/s (one core, no Kafka)")

    broker = None
    tmp = Path(tempfile.mkdtemp(prefix="marsad-bench-stream-"))
    bootstrap = os.environ.get("MARSAD_KAFKA_BOOTSTRAP", "").strip()
    if not bootstrap:
        from marsad.kafka import LocalBroker
        from marsad.settings import Settings
        from tests.support.kafka_helpers import free_ports

        port, cport = free_ports(2)
        broker = LocalBroker(tmp / "kafka", port=port, controller_port=cport,
                             cache_dir=Settings().cache_dir)  # fmt: skip
        broker.start(timeout=180)
        bootstrap = broker.bootstrap
    results = []
    try:
        ensure_topics(bootstrap, int(os.environ.get("MARSAD_PARTITIONS", "4")), TOPICS)
        for count in [int(x) for x in args.workers.split(",") if x.strip()]:
            try:
                r = run_once(bootstrap, articles, count, tmp, timeout=args.timeout)
            except RuntimeError as exc:
                # A stalled run is a finding, not a crash of the benchmark: report it.
                print(f"{count} worker(s): DID NOT DRAIN within {args.timeout:.0f} s: {exc}")
                results.append({"workers": count, "stalled": True, "error": str(exc)[:500]})
                continue
            results.append(r)
            print(
                f"{count} worker(s): {r['articles']} articles in {r['seconds']} s = "
                f"{r['articles_per_s']} articles/s sustained "
                f"({r['incident_updates']} incident updates, {r['alerts']} alerts, "
                f"{r['alert_revisions']} alert revisions, {r['duplicate_revisions']} duplicates)"
            )
    finally:
        if broker is not None:
            broker.stop()
    print(json.dumps({"extract_articles_per_s": round(ext_rate, 1), "runs": results}))
    return 0 if any(not r.get("stalled") for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
