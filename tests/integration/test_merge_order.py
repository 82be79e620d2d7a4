"""Incident identity through the real broker: the same reports in two shuffled orders, with
one worker and with two, end as the same incidents (same groups of reports, same tolls,
same ids). Issue #12 items 3 and 4.

The reports carry their extraction (the stand-in ``tests.unit.stream.fake_extract``), so the
test is about the stream's merge step and its partitioning, not about Arabic reading. They
are the five reports of one ISIS attack near Al-Sukhnah (tolls 12, 14, 12, 17 + 3
attackers, 17; two with another event type), a border event told in Homs by one outlet and
in Deir ez-Zor by another, a bombing two days after a clash in one town (two events), and
an Iraqi event.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from control.eval_merge import Report, live_incidents, ordered, through_stream
from control.merge_score import report_incidents

pytestmark = pytest.mark.integration

FAKE = "tests.unit.stream.fake_extract:extract"
SUKHNAH = {
    "name_ar": "السخنة",
    "name_en": "Al-Sukhnah",
    "admin1": "SY-HI",
    "lat": 34.884,
    "lon": 38.872,
}
EAST_HOMS = {"name_ar": "ريف حمص الشرقي", "name_en": "Homs Governorate", "admin1": "SY-HI"}
DEIR_BADIA = {"name_ar": "بادية دير الزور", "name_en": "Deir ez-Zor Governorate", "admin1": "SY-DY"}
MAYADIN = {
    "name_ar": "الميادين",
    "name_en": "Al-Mayadin",
    "admin1": "SY-DY",
    "lat": 35.02,
    "lon": 40.45,
}
KIRKUK = {"name_ar": "كركوك", "name_en": "Kirkuk", "admin1": "IQ-KI", "lat": 35.468, "lon": 44.392}
ATTACK = "هجوم لخلايا تنظيم داعش على مواقع قوات النظام في بادية السخنة شرقي حمص"


def _report(u: str, rid: str, event: str, published: str, **inc: Any) -> Report:
    incident = {
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "perpetrator": "ISIS",
        "targets": ["SYRIAN_GOV"],
        "location": SUKHNAH,
        "occurred_on": "2023-03-06",
        "evidence": ATTACK,
        **inc,
    }
    article = {
        "id": f"{u}-{rid}",
        "title": "خبر",
        "text": "نص الخبر",
        "source": f"outlet-{rid}",
        "published_at": published,
        "schema": 1,
        "test_extraction": {"incidents": [incident]},
    }
    return Report(f"{u}-{rid}", article, event)


def reports(u: str) -> list[Report]:
    unnamed: dict[str, Any] = {
        "event_type": "Violence against civilians",
        "sub_event_type": "Attack",
        "targets": [],
    }
    bombing: dict[str, Any] = {
        "event_type": "Explosions/Remote violence",
        "sub_event_type": "Remote explosive/landmine/IED",
        "perpetrator": "UNKNOWN",
        "targets": [],
        "location": MAYADIN,
    }
    return [
        _report(u, "s1", "sukhnah", "2023-03-06T18:00:00+03:00", killed=12),
        _report(u, "s2", "sukhnah", "2023-03-06T18:40:00+03:00", killed=14, **unnamed),
        _report(u, "s3", "sukhnah", "2023-03-06T19:30:00+03:00", killed=12, location=EAST_HOMS),
        _report(
            u,
            "s4",
            "sukhnah",
            "2023-03-06T23:00:00+03:00",
            killed=20,
            killed_by_actor={"SYRIAN_GOV": 17, "ISIS": 3},
        ),
        _report(u, "s5", "sukhnah", "2023-03-07T04:00:00+03:00", killed=17, **unnamed),
        _report(
            u,
            "b1",
            "t2",
            "2023-04-02T10:00:00+03:00",
            killed=11,
            location=EAST_HOMS,
            occurred_on="2023-04-02",
            evidence="هجوم لداعش قرب محطة T2",
        ),
        _report(
            u,
            "b2",
            "t2",
            "2023-04-02T12:00:00+03:00",
            killed=11,
            location=DEIR_BADIA,
            occurred_on="2023-04-02",
            evidence="هجوم لداعش قرب محطة T2",
        ),
        _report(
            u,
            "c1",
            "clash",
            "2023-05-01T10:00:00+03:00",
            killed=5,
            location=MAYADIN,
            occurred_on="2023-05-01",
            evidence="اشتباكات مع خلايا داعش في الميادين",
        ),
        _report(
            u,
            "c2",
            "bombing",
            "2023-05-03T10:00:00+03:00",
            killed=5,
            occurred_on="2023-05-03",
            evidence="انفجار عبوة ناسفة عند حاجز في الميادين",
            **bombing,
        ),
        _report(
            u,
            "c3",
            "bombing",
            "2023-05-03T12:00:00+03:00",
            killed=6,
            occurred_on="2023-05-03",
            evidence="انفجار عبوة ناسفة عند حاجز في الميادين",
            **bombing,
        ),
        _report(
            u,
            "k1",
            "kirkuk",
            "2023-06-01T10:00:00+03:00",
            killed=4,
            location=KIRKUK,
            occurred_on="2023-06-01",
            targets=["IRAQ_GOV"],
            evidence="هجوم لداعش في كركوك",
        ),
        _report(
            u,
            "k2",
            "kirkuk",
            "2023-06-01T12:00:00+03:00",
            killed=4,
            location=KIRKUK,
            occurred_on="2023-06-01",
            targets=["IRAQ_GOV"],
            evidence="هجوم لداعش في كركوك",
        ),
    ]


def _incidents(found: list[dict[str, Any]]) -> list[tuple[str, tuple[str, ...], int | None]]:
    """(id, reports, toll) of each incident's last revision, not absorbed, sorted."""
    last: dict[str, dict[str, Any]] = {}
    for inc in live_incidents(found):
        if inc["id"] not in last or inc["revision"] >= last[inc["id"]]["revision"]:
            last[inc["id"]] = inc
    return sorted(
        (i["id"], tuple(sorted(i["article_ids"])), i.get("killed")) for i in last.values()
    )


def _posts_per_event(
    found: list[dict[str, Any]], alerts: list[dict[str, Any]]
) -> dict[tuple[str, tuple[str, ...]], int]:
    """(rule, the event's reports) → how many alerts were first revisions (Slack posts)."""
    groups = {i[0]: i[1] for i in _incidents(found)}
    living = {inc["id"]: groups[inc["id"]] for inc in live_incidents(found)}
    event_of: dict[str, tuple[str, ...]] = {}  # alert id → the event its last revision tells
    for alert in sorted(alerts, key=lambda a: int(a["revision"])):
        inc = alert.get("incident") or {}
        if inc.get("id") in living and not alert.get("merged_into"):
            event_of[alert["id"]] = living[inc["id"]]
    counts: dict[tuple[str, tuple[str, ...]], int] = {}
    for alert in alerts:
        if int(alert["revision"]) == 1 and alert["id"] in event_of:
            key = (str(alert["rule"]), event_of[alert["id"]])
            counts[key] = counts.get(key, 0) + 1
    # a post later closed as a twin of another still counts against its event
    for alert in alerts:
        if alert.get("merged_into") and alert["merged_into"] in event_of:
            key = (str(alert["rule"]), event_of[alert["merged_into"]])
            counts[key] = counts.get(key, 0) + 1
    return counts


def test_two_orders_one_and_two_workers_give_the_same_incidents(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    u = uuid.uuid4().hex[:6]
    rs = reports(u)
    results = {}
    posts: dict[tuple[int, int], dict[tuple[str, tuple[str, ...]], int]] = {}
    for workers in (1, 2):
        for seed in (1, 2):
            alerts: list[dict[str, Any]] = []
            found = through_stream(
                ordered(rs, seed),
                workers,
                None,
                150,
                bootstrap=kafka_bootstrap,
                extractor=FAKE,
                logs=tmp_path,
                alerts_out=alerts,
            )
            results[workers, seed] = _incidents(found)
            posts[workers, seed] = _posts_per_event(found, alerts)
    first = results[1, 1]
    for key, got in results.items():
        assert got == first, (key, got, first)
    groups = {ids: killed for _id, ids, killed in first}
    assert groups == {
        tuple(sorted(f"{u}-s{i}" for i in range(1, 6))): 20,
        (f"{u}-b1", f"{u}-b2"): 11,
        (f"{u}-c1",): 5,
        (f"{u}-c2", f"{u}-c3"): 6,
        (f"{u}-k1", f"{u}-k2"): 4,
    }
    # One Slack post per rule and event in every order: a report published earlier but read
    # later renames its event, and the alert already posted lives on (edited, no new post).
    for key, counts in posts.items():
        assert counts and all(n == 1 for n in counts.values()), (key, counts)
    # and the scorer reads the same groups
    assert len(set(report_incidents(live_incidents(found)).values())) == 5
