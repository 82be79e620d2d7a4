"""Web desk benchmark: how long each page takes to load over a store of 10,000 incidents.

Issue #15 sets the target: a page loads in under 300 ms with 10,000 incidents stored. The
store is SQLite in a temporary directory, filled through the store's own writer with what a
busy month looks like: incidents spread over 30 days and the governorates of Syria and Iraq
(real places of the gazetteer, the busiest governorates weighted up), every event type, tolls
mostly small with a long tail, one in seven incidents revised by a second report (the toll
rises, a source is added, merge reasons), an article behind every report and an alert for
every toll of ten or more. ``marsad web`` serves it as a process on 127.0.0.1, as in
production; each page is asked for ``--requests`` times after a warm-up, one request at a
time over one kept-alive connection, and timed from sending the request to the last byte of
the answer. Pages: the map (default view: the last 7 days, and the 30-day view), the timeline
(7 and 30 days), the page of an incident with two revisions and an alert, and the 7-day
GeoJSON. Prints median and p95 per page, the answer's size and the server's peak RSS; the last
line is JSON for bench/run_all.py.

``--profile PATH`` instead runs one page in this process under cProfile (the app over the same
store, Starlette's TestClient) and prints where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from desk.store.engine import open_engine  # noqa: E402
from desk.store.migrate import upgrade  # noqa: E402
from desk.store.writer import store_alert, store_article, store_incident  # noqa: E402
from marsad.records import (  # noqa: E402
    ACTOR_CODES,
    SUB_EVENT_TYPES,
    Alert,
    Article,
    EventType,
    StoredIncident,
)
from tests.support.kafka_helpers import free_port, wait_until  # noqa: E402

INCIDENTS = 10_000
DAYS = 30
TARGET_MS = 300.0
REQUESTS = 30
WARMUP = 3
PLACES_FILE = ROOT / "marsad" / "data" / "places.yaml"
MARSAD = str(Path(sys.executable).with_name("marsad"))

#: how much busier than the others a governorate is (the rest weigh 1)
BUSY = {"SY-DY": 8, "SY-ID": 7, "SY-HL": 5, "SY-HM": 3, "SY-DR": 3, "IQ-NI": 4, "IQ-AN": 3}
EVENTS: dict[EventType, int] = {
    "Battles": 4,
    "Explosions/Remote violence": 5,
    "Violence against civilians": 2,
    "Strategic developments": 1,
}
#: words for the articles' filler (our own, in the reports' style)
FILLER = (
    "وأفادت مصادر محلية بأن التوتر ما زال يسود المنطقة منذ أيام، وسط استنفار أمني وانتشار "
    "للحواجز على الطرق الرئيسية، فيما لم تصدر أي جهة بياناً رسمياً حول ما جرى حتى الآن."
)


#: every article, incident revision and alert of the benchmark's store
Sample = tuple[list[Article], list[StoredIncident], list[Alert]]


def _places() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(PLACES_FILE.read_text(encoding="utf-8"))
    return [
        p
        for p in loaded["places"]
        if p.get("kind") in ("city", "town", "village")
        and p.get("lat") is not None
        and str(p.get("admin1", "")).startswith(("SY-", "IQ-"))
    ]


def _killed(rng: random.Random) -> int | None:
    """Mostly a handful, sometimes dozens, now and then not reported."""
    roll = rng.random()
    if roll < 0.06:
        return None
    if roll < 0.75:
        return rng.randint(0, 4)
    if roll < 0.95:
        return rng.randint(5, 25)
    return rng.randint(26, 120)


def sample(today: date, count: int = INCIDENTS, seed: int = 15) -> Sample:
    """Every article, incident revision and alert of the benchmark's store."""
    rng = random.Random(seed)
    places = _places()
    weights = [BUSY.get(p["admin1"], 1) for p in places]
    events = list(EVENTS)
    articles: list[Article] = []
    revisions: list[StoredIncident] = []
    alerts: list[Alert] = []
    for n in range(count):
        place = rng.choices(places, weights)[0]
        event = rng.choices(events, [EVENTS[e] for e in events])[0]
        day = today - timedelta(days=rng.randrange(DAYS))
        seen = datetime(day.year, day.month, day.day, rng.randrange(24), tzinfo=UTC)
        killed = _killed(rng)
        perpetrator, *targets = rng.sample(ACTOR_CODES, rng.randint(2, 3))
        name_ar = place["aliases_ar"][0]
        evidence = f"قتل {killed or 'عدد من'} أشخاص في {name_ar} جراء الهجوم"
        text = f"{FILLER} {evidence}، بحسب ما أفاد به مراسلون في المنطقة. {FILLER}"
        base: dict[str, Any] = {
            "id": f"inc-{n:05d}",
            "event_type": event,
            "sub_event_type": rng.choice(SUB_EVENT_TYPES[event]),
            "perpetrator": perpetrator,
            "targets": targets,
            "location": {
                "name_ar": name_ar,
                "name_en": place["name_en"],
                "admin1": place["admin1"],
                "lat": place["lat"] if rng.random() > 0.1 else None,
                "lon": place["lon"],
            },
            "occurred_on": day.isoformat(),
            "killed": killed,
            "injured": rng.randint(0, 10),
            "evidence": evidence,
            "evidence_span": [text.index(evidence), text.index(evidence) + len(evidence)],
            "confidence": round(rng.uniform(0.55, 0.95), 2),
            "article_ids": [f"art-{n:05d}-1"],
            "sources": ["Sample Observatory"],
            "urls": [f"https://example.org/{n:05d}/1"],
            "first_seen_at": seen.isoformat(),
            "updated_at": seen.isoformat(),
            "revision": 1,
        }
        articles.append(
            Article(
                id=f"art-{n:05d}-1",
                title=f"هجوم في {name_ar}",
                text=text,
                url=f"https://example.org/{n:05d}/1",
                source="Sample Observatory",
                published_at=seen,
            )
        )
        revisions.append(StoredIncident.model_validate(base))
        if rng.random() < 1 / 7:
            later = seen + timedelta(hours=rng.randint(1, 12))
            rose = (killed or 0) + rng.randint(1, 6)
            revisions.append(
                StoredIncident.model_validate(
                    {
                        **base,
                        "revision": 2,
                        "killed": rose,
                        "article_ids": [f"art-{n:05d}-1", f"art-{n:05d}-2"],
                        "sources": ["Sample Observatory", "Sample Network"],
                        "urls": [*base["urls"], f"https://example.org/{n:05d}/2"],
                        "updated_at": later.isoformat(),
                        "merge_reasons": ["same place", "same day", "same perpetrator"],
                    }
                )
            )
            articles.append(
                Article(
                    id=f"art-{n:05d}-2",
                    title=f"ارتفاع الحصيلة في {name_ar}",
                    text=f"ارتفعت الحصيلة إلى {rose}. {text}",
                    url=f"https://example.org/{n:05d}/2",
                    source="Sample Network",
                    published_at=later,
                )
            )
        latest = revisions[-1]
        if (latest.killed or 0) >= 10:
            alerts.append(
                Alert(
                    id=f"alert-{n:05d}",
                    rule="deadly-incident",
                    severity="critical" if (latest.killed or 0) >= 25 else "warning",
                    incident_ids=[latest.id],
                    summary_en=f"{latest.killed} killed in {place['name_en']}",
                    created_at=latest.updated_at or seen,
                    incident=latest,
                )
            )
    return articles, revisions, alerts


def fill(url: str, records: Sample) -> dict[str, Any]:
    """The store at ``url``, filled through the writer in one transaction; what went in."""
    articles, revisions, alerts = records
    engine = open_engine(url)
    start = time.perf_counter()
    try:
        upgrade(engine)
        with engine.begin() as conn:
            for article in articles:
                store_article(conn, article)
            for incident in revisions:
                store_incident(conn, incident)
            for alert in alerts:
                store_alert(conn, alert)
    finally:
        engine.dispose()
    return {
        "incidents": len({r.id for r in revisions}),
        "revisions": len(revisions),
        "articles": len(articles),
        "alerts": len(alerts),
        "fill_s": round(time.perf_counter() - start, 1),
    }


def pages(today: date, incident_id: str) -> dict[str, str]:
    month = (today - timedelta(days=DAYS - 1)).isoformat()
    return {
        "map_7d": "/",
        "map_30d": f"/?since={month}",
        "timeline_7d": "/timeline",
        "timeline_30d": f"/timeline?since={month}",
        "incident": f"/incidents/{incident_id}",
        "geojson_7d": "/api/incidents.geojson",
    }


def revised_with_alert(records: Sample) -> str:
    """An incident of the sample with two revisions and an alert: the fullest page."""
    _articles, revisions, alerts = records
    twice = {r.id for r in revisions if r.revision == 2}
    return next(a.incident_ids[0] for a in alerts if a.incident_ids[0] in twice)


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set (Linux ``VmHWM``), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def time_pages(base: str, paths: dict[str, str], requests: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        for name, path in paths.items():
            for _ in range(WARMUP):
                client.get(path).raise_for_status()
            times: list[float] = []
            size = 0
            for _ in range(requests):
                start = time.perf_counter()
                response = client.get(path)
                size = len(response.content)
                times.append(1000 * (time.perf_counter() - start))
                response.raise_for_status()
            times.sort()
            out[name] = {
                "path": path,
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[max(0, round(0.95 * len(times)) - 1)], 1),
                "max_ms": round(times[-1], 1),
                "kb": round(size / 1024, 1),
            }
    return out


def serve_and_time(url: str, work: Path, paths: dict[str, str], requests: int) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARSAD_", "SLACK_"))}
    env.update(
        MARSAD_HOME=str(work / "home"),
        MARSAD_DATABASE_URL=url,
        MARSAD_WEB_LISTEN=f"127.0.0.1:{port}",
        MARSAD_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    with (work / "web.log").open("ab") as log:
        web = subprocess.Popen([MARSAD, "web"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(
            lambda: web.poll() is None and _up(base),
            timeout=60,
            message=f"marsad web answering (log in {work})",
            interval=0.2,
        )
        timed = time_pages(base, paths, requests)
        rss = peak_rss_mb(web.pid)
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(timeout=30)
    return {"pages": timed, "server_peak_rss_mb": rss}


def _up(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def profile(url: str, path: str, requests: int) -> None:
    """``path`` asked ``requests`` times in this process under cProfile; the top functions.

    The route's handler is called directly with a request for ``path`` (the handlers are plain
    functions; Starlette would run them in a worker thread, which cProfile does not follow)."""
    import cProfile
    import pstats
    from urllib.parse import urlsplit

    from starlette.requests import Request
    from starlette.routing import Match, Route

    from desk.web.app import create_app
    from desk.web.store_source import open_source

    source = open_source(url)
    app: Any = create_app(source, rules=ROOT / "config" / "rules.yaml")
    while not hasattr(app, "routes"):  # the security and access middleware around it
        app = app.app
    parts = urlsplit(path)
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": parts.path,
        "query_string": parts.query.encode(),
        "headers": [],
        "app": app,
    }
    routes = [r for r in app.routes if isinstance(r, Route)]
    route, child = next((r, c) for r in routes for m, c in [r.matches(scope)] if m == Match.FULL)
    handler: Any = route.endpoint
    try:
        handler(Request({**scope, **child}))
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            handler(Request({**scope, **child}))
        profiler.disable()
    finally:
        source.close()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=REQUESTS, help="timed requests per page")
    parser.add_argument("--profile", metavar="PATH", help="profile one page in-process instead")
    args = parser.parse_args(argv)
    today = datetime.now(UTC).date()
    with tempfile.TemporaryDirectory(prefix="marsad-bench-web-") as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'desk.db'}"
        records = sample(today)
        stored = fill(url, records)
        print(
            f"store: {stored['incidents']} incidents ({stored['revisions']} revisions), "
            f"{stored['articles']} articles, {stored['alerts']} alerts over {DAYS} days, "
            f"written in {stored['fill_s']} s"
        )
        if args.profile:
            profile(url, args.profile, args.requests)
            return 0
        paths = pages(today, revised_with_alert(records))
        served = serve_and_time(url, work, paths, args.requests)
    worst = 0.0
    for name, page in served["pages"].items():
        worst = max(worst, page["p95_ms"])
        print(
            f"{name:13s} median {page['median_ms']:7.1f} ms  p95 {page['p95_ms']:7.1f} ms"
            f"  ({page['kb']:.0f} KB)  {page['path']}"
        )
    print(f"server peak RSS {served['server_peak_rss_mb']} MiB")
    within = worst < TARGET_MS
    print(f"target: every page's p95 under {TARGET_MS:.0f} ms: {'met' if within else 'MISSED'}")
    figures: dict[str, Any] = {
        "store": stored,
        "requests_per_page": args.requests,
        **served,
        "target_ms": TARGET_MS,
        "within_target": within,
    }
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
