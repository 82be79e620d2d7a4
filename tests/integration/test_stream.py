"""The Faust stream processor through the real broker: merging, rules, DLQ, restarts, scale.

Workers run as ``marsad stream`` child processes (as in production), each test under its
own app id that starts at the current end of ``articles`` (so earlier tests' articles are
not reprocessed). Extraction is the stand-in ``tests.unit.stream.fake_extract``: these
tests are about the stream, the extractor has its own. Waits are on consumer-group lag and
group membership, with deadlines.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka.partitioner.default import murmur2

from control.workers import WorkerProcess, wait_drained, wait_for_members
from marsad.kafka.probes import GroupProbe, read_topic
from marsad.topics import Topics, dlq
from stream.app import APP_HEADER, candidates_topic_name, window_updates_topic_name
from tests.support.kafka_helpers import produce_json

TOPICS = Topics()
ARTICLES = TOPICS.articles

pytestmark = pytest.mark.integration

FAKE = "tests.unit.stream.fake_extract:extract"
PARTITIONS = 4

RULES = """
rules:
  - {name: deadly, kind: incident, when: {killed_gte: 10}}
  - name: hm-24h
    kind: window
    where: {admin1: [SY-HM]}
    metric: killed
    group_by: admin1
    window: {type: hopping, size: 24h, step: 6h}
    threshold: 25
  - name: hts-week
    kind: window
    where: {perpetrator: [HTS]}
    metric: count
    group_by: perpetrator
    window: {type: tumbling, size: 7d}
    threshold: 3
"""

PLACES = {
    "SY-DY": ("البوكمال", "Al-Bukamal", 34.45, 40.92),
    "SY-HM": ("صوران", "Suran", 35.29, 36.74),
    "SY-ID": ("سراقب", "Saraqib", 35.86, 36.8),
    "SY-HL": ("الباب", "Al-Bab", 36.37, 37.52),
    "SY-RA": ("الطبقة", "Al-Tabqa", 35.84, 38.55),
    "SY-HI": ("تدمر", "Palmyra", 34.55, 38.27),
    "SY-DR": ("نوى", "Nawa", 32.89, 36.04),
    "SY-HA": ("الشدادي", "Al-Shaddadi", 36.05, 40.73),
}


def incident(
    admin1: str,
    killed: int | None,
    *,
    place: str | None = None,
    day: str = "2019-03-10",
    perpetrator: str = "ISIS",
    **kw: Any,
) -> dict[str, Any]:
    ar, en = PLACES[admin1][:2]
    lat: float | None = PLACES[admin1][2]
    lon: float | None = PLACES[admin1][3]
    if place is not None:  # a distinct named place without coordinates: never merged
        ar, en, lat, lon = place, place, None, None
    data = {
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "perpetrator": perpetrator,
        "targets": ["SYRIAN_GOV"] if perpetrator != "SYRIAN_GOV" else ["OPPOSITION"],
        "location": {"name_ar": ar, "name_en": en, "admin1": admin1, "lat": lat, "lon": lon},
        "occurred_on": day,
        "killed": killed,
        "evidence": f"هجوم على مواقع في {ar} أسفر عن قتلى",
    }
    data.update(kw)
    return data


def article(aid: str, source: str, *incidents: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": aid,
        "title": "خبر",
        "text": "نص الخبر",
        "source": source,
        "published_at": "2019-03-10T09:00:00+03:00",
        "test_extraction": {"incidents": list(incidents), **extra},
    }


class Run:
    """One stream app (app id) with its workers, on the session broker."""

    def __init__(self, bootstrap: str, tmp: Path, name: str, workers: int = 1) -> None:
        self.bootstrap = bootstrap
        self.app_id = f"test-{name}-{uuid.uuid4().hex[:8]}"
        self.rules = tmp / f"{name}-rules.yaml"
        self.rules.write_text(RULES, encoding="utf-8")
        self.tmp = tmp
        self.workers: list[WorkerProcess] = []
        self.count = workers
        with GroupProbe(bootstrap) as probe:
            probe.start_group_at_end(self.app_id, [ARTICLES])
            self.alerts_start = {
                tp: o for tp, o in probe.end_offsets(probe.partitions(["alerts"])).items()
            }

    def start(self) -> Run:
        new = [
            WorkerProcess(
                self.bootstrap,
                self.app_id,
                self.tmp / f"{self.app_id}-{len(self.workers) + i}.log",
                rules=self.rules,
                extractor=FAKE,
                extra_args=["--client-log-level", "INFO"],
            ).start()
            for i in range(self.count)
        ]
        self.workers.extend(new)
        wait_for_members(self.bootstrap, self.app_id, [w for w in self.workers if w.alive()])
        return self

    def live(self) -> list[WorkerProcess]:
        return [w for w in self.workers if w.alive()]

    def drain(self) -> None:
        wait_drained(
            self.bootstrap,
            self.app_id,
            [
                ARTICLES,
                candidates_topic_name(TOPICS, self.app_id),
                window_updates_topic_name(self.app_id),
            ],
            timeout=120,
            workers=self.live(),
        )

    def alerts(self) -> list[dict[str, Any]]:
        return [
            v
            for _k, v in read_topic(
                self.bootstrap, "alerts", self.alerts_start, header=(APP_HEADER, self.app_id)
            )
        ]

    def stop(self) -> None:
        for w in self.workers:
            w.stop()


def send(bootstrap: str, *articles: dict[str, Any]) -> None:
    produce_json(bootstrap, ARTICLES, articles, key=lambda a: a["id"])


def by_rule(alerts: list[dict[str, Any]], rule: str) -> list[dict[str, Any]]:
    return [a for a in alerts if a["rule"] == rule]


@pytest.fixture(scope="module")
def shared(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """One worker for the tests that only need a running stream (saves start-ups)."""
    run = Run(kafka_bootstrap, tmp_path_factory.mktemp("stream"), "shared")
    try:
        yield run.start()
    finally:
        run.stop()


def test_five_reports_three_sources_one_alert_with_revisions(shared: Run) -> None:
    u = uuid.uuid4().hex[:6]
    reports = [
        article(f"{u}-1", "SOHR", incident("SY-DY", 30)),
        article(f"{u}-2", "SOHR", incident("SY-DY", 51)),
        article(f"{u}-3", "Orient", incident("SY-DY", 64)),
        article(f"{u}-4", "Enab Baladi", incident("SY-DY", 41)),
        article(f"{u}-5", "AFP", incident("SY-DY", 64)),
    ]
    for report in reports:  # one at a time: the order the outlets published in
        send(shared.bootstrap, report)
        shared.drain()
    mine = [
        a for a in by_rule(shared.alerts(), "deadly") if f"{u}-1" in a["incident"]["article_ids"]
    ]
    assert len({a["id"] for a in mine}) == 1, mine
    assert [a["revision"] for a in mine] == [1, 2, 3]
    assert [a["incident"]["killed"] for a in mine] == [30, 51, 64]
    # the alert's snapshot is its revision's; later sources reach the incidents topic
    inc_id = mine[0]["incident_ids"][0]
    versions = [v for k, v in read_topic(shared.bootstrap, "incidents") if k == inc_id.encode()]
    final = versions[-1]
    assert final["article_ids"] == [r["id"] for r in reports]
    assert final["sources"] == ["SOHR", "Orient", "Enab Baladi", "AFP"]
    assert (final["killed"], final["revision"]) == (64, 3)
    assert mine[-1]["changes"] == ["killed 51→64"]
    assert mine[-1]["schema"] == 1 and mine[-1]["summary_ar"] and mine[-1]["summary_en"]


def test_tally_only_and_background_reports_raise_no_alert(shared: Run) -> None:
    u = uuid.uuid4().hex[:6]
    tally = article(
        f"{u}-t", "SOHR", tallies=[{"killed": 239, "actor": "SYRIAN_GOV", "since": "2019-02-01"}]
    )
    background = article(f"{u}-b", "Orient", incident("SY-DR", 90, background=True))
    sentinel = article(f"{u}-s", "SOHR", incident("SY-DR", 12, place="Tafas"))
    send(shared.bootstrap, tally, background, sentinel)
    shared.drain()
    alerts = shared.alerts()
    ids = [set(a["incident"]["article_ids"]) for a in alerts if a.get("incident")]
    assert any(f"{u}-s" in s for s in ids), "the sentinel should alert (stream is alive)"
    assert not any({f"{u}-t", f"{u}-b"} & s for s in ids)
    incidents = read_topic(shared.bootstrap, "incidents")
    assert not any(
        v and {f"{u}-t", f"{u}-b"} & set(v.get("article_ids", [])) for _k, v in incidents
    )


def test_windowed_rule_fires_once_when_crossing(shared: Run) -> None:
    u = uuid.uuid4().hex[:6]
    day = "2019-04-02"
    tolls = [10, 10, 8, 9]  # 20 < 25, then 28 crosses, then 37 stays over: one alert
    for i, killed in enumerate(tolls):
        send(
            shared.bootstrap,
            article(f"{u}-{i}", "SOHR", incident("SY-HM", killed, place=f"قرية-{u}-{i}", day=day)),
        )
        shared.drain()
        fired = by_rule(shared.alerts(), "hm-24h")
        assert len(fired) == (0 if i < 2 else 1), (i, fired)
    alert = fired[0]
    assert alert["kind"] == "window" and alert["window"]["total"] == 28
    assert alert["window"]["group"] == "SY-HM" and len(alert["incident_ids"]) == 3


def test_poison_messages_go_to_dlq_and_stream_continues(shared: Run) -> None:
    from kafka import KafkaProducer

    u = uuid.uuid4().hex[:6]
    producer = KafkaProducer(bootstrap_servers=shared.bootstrap)
    producer.send(ARTICLES, key=f"{u}-raw".encode(), value=b"\xff not json {")
    producer.send(ARTICLES, key=f"{u}-notext".encode(), value=b'{"id": "x", "schema": 1}')
    producer.send(ARTICLES, key=f"{u}-boom".encode(), value=b'{"id": "y", "text": "RAISE"}')
    producer.flush()
    producer.close()
    send(shared.bootstrap, article(f"{u}-ok", "SOHR", incident("SY-HA", 15)))
    shared.drain()
    dead = {k.decode(): v for k, v in read_topic(shared.bootstrap, dlq(ARTICLES)) if k}
    assert "not JSON" in dead[f"{u}-raw"]["error"] and dead[f"{u}-raw"]["raw"]
    assert "text" in dead[f"{u}-notext"]["error"] and dead[f"{u}-notext"]["id"] == "x"
    assert "extract failed" in dead[f"{u}-boom"]["error"] and dead[f"{u}-boom"]["id"] == "y"
    assert any(
        f"{u}-ok" in a["incident"]["article_ids"] for a in shared.alerts() if a.get("incident")
    )
    assert shared.live(), "the worker must survive poison messages"


def test_worker_restart_does_not_repeat_alerts(kafka_bootstrap: str, tmp_path: Path) -> None:
    run = Run(kafka_bootstrap, tmp_path, "restart").start()
    u = uuid.uuid4().hex[:6]
    try:
        send(kafka_bootstrap, article(f"{u}-1", "SOHR", incident("SY-ID", 20)))
        for i in range(3):
            send(
                kafka_bootstrap,
                article(
                    f"{u}-h{i}",
                    "SOHR",
                    incident("SY-HL", 1, place=f"p{u}{i}", perpetrator="HTS", day="2019-05-01"),
                ),
            )
        run.drain()
        before = run.alerts()
        assert sorted(a["rule"] for a in before) == ["deadly", "hts-week"]

        run.workers[0].kill()  # a crash: no commit, no leaving the group
        run.start()  # same app id: tables come back from their changelogs
        send(
            kafka_bootstrap,
            article(f"{u}-1", "SOHR", incident("SY-ID", 20)),  # the same report again
            article(f"{u}-2", "Orient", incident("SY-ID", 18)),  # lower: adds a source
            article(
                f"{u}-h9",
                "SOHR",
                incident("SY-HL", 1, place=f"q{u}", perpetrator="HTS", day="2019-05-01"),
            ),
        )
        run.drain()
        seen = {(a["id"], a["revision"]) for a in before}
        after = run.alerts()
        assert len(after) == len(before), [a for a in after if (a["id"], a["revision"]) not in seen]

        run.workers[-1].stop()  # a graceful restart too
        run.start()
        send(kafka_bootstrap, article(f"{u}-3", "AFP", incident("SY-ID", 26)))
        run.drain()
        final = run.alerts()
        new = [a for a in final if (a["id"], a["revision"]) not in seen]
        assert [(a["rule"], a["revision"]) for a in new] == [("deadly", 2)], (
            sorted(seen),
            [(a["id"], a["revision"]) for a in final],
        )
        assert new[0]["id"] == by_rule(before, "deadly")[0]["id"]
        assert new[0]["incident"]["sources"] == ["SOHR", "Orient", "AFP"]
        pairs = [(a["id"], a["revision"]) for a in final]
        assert len(pairs) == len(set(pairs))
    finally:
        run.stop()


def _governorates_covering_all_partitions() -> list[str]:
    """Governorates whose keys land on every candidates partition (murmur2, as Faust's
    producer partitions), so both of two workers merge something."""
    chosen: dict[int, str] = {}
    for gov in PLACES:
        chosen.setdefault((murmur2(gov.encode()) & 0x7FFFFFFF) % PARTITIONS, gov)
    assert len(chosen) == PARTITIONS, chosen
    return list(chosen.values())


def _fingerprint(alerts: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    out = []
    for a in alerts:
        inc = a.get("incident") or {}
        out.append(
            (
                a["id"],
                a["revision"],
                a["rule"],
                a["severity"],
                tuple(a["incident_ids"]),
                inc.get("killed"),
                tuple(inc.get("sources", [])),
                (a.get("window") or {}).get("total"),
            )
        )
    return sorted(out)


def test_two_workers_produce_what_one_worker_does(kafka_bootstrap: str, tmp_path: Path) -> None:
    govs = _governorates_covering_all_partitions()
    one = Run(kafka_bootstrap, tmp_path, "one", workers=1)
    two = Run(kafka_bootstrap, tmp_path, "two", workers=2)
    u = uuid.uuid4().hex[:6]
    try:
        one.start()
        two.start()
        waves: list[list[dict[str, Any]]] = [[], [], []]
        for g, gov in enumerate(govs):
            day = f"2019-06-{10 + g:02d}"
            waves[0].append(article(f"{u}-{gov}-a", "SOHR", incident(gov, 12, day=day)))
            waves[1].append(article(f"{u}-{gov}-b", "Orient", incident(gov, 40, day=day)))
            waves[2].append(article(f"{u}-{gov}-c", "AFP", incident(gov, 33, day=day)))
            # one small HTS attack per governorate: 3 of them fall in one 7-day window
            waves[0].append(
                article(
                    f"{u}-{gov}-h",
                    "SOHR",
                    incident(gov, 2, place=f"h{u}{gov}", perpetrator="HTS", day=day),
                )
            )
        # Within a wave, reports reach the merge step in no fixed order (articles are spread
        # over partitions by id); each wave holds at most one report per event and window
        # rules that only cross on the wave's last update, so the outcome does not depend
        # on that order and one worker and two must agree exactly.
        for wave in waves:
            send(kafka_bootstrap, *wave)
            one.drain()
            two.drain()
        a1, a2 = one.alerts(), two.alerts()
        assert len(by_rule(a1, "deadly")) == 2 * len(govs)  # revision 1 and 2 per attack
        assert by_rule(a1, "hts-week"), "the cross-governorate window should fire"
        assert _fingerprint(a1) == _fingerprint(a2)
        # Candidates are keyed by country (stream.merge_step.partition_key): these Syrian
        # reports merge on one worker, while extraction (by article id) and the window
        # counts (by rule and group) spread over both.
        for w in two.workers:
            text = w.log_text()
            assert "new incident" in text or " alert " in text, "both workers should work"
    finally:
        one.stop()
        two.stop()
