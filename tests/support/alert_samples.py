"""Sample alerts for the notifier's tests (our own sentences, written in the reports' style)."""

from __future__ import annotations

from typing import Any

EVIDENCE_AR = (
    "قُتل 30 عنصراً من قوات النظام والمسلحين الموالين لها، بهجوم نفذته خلايا تنظيم "
    "\u201cالدولة الإسلامية\u201d على مواقعهم في بادية الميادين بريف دير الزور الشرقي، "
    "فيما أصيب 12 آخرون بجراح متفاوتة."
)
SUMMARY_AR = "30 قتيلاً من قوات النظام بهجوم لتنظيم الدولة في بادية الميادين"


def incident(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "inc-dy-0001",
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "perpetrator": "ISIS",
        "targets": ["SYRIAN_GOV", "IRAN_BACKED"],
        "location": {
            "name_ar": "الميادين",
            "name_en": "Al-Mayadin",
            "admin1": "SY-DY",
            "lat": 35.02,
            "lon": 40.45,
        },
        "occurred_on": "2024-03-14",
        "killed": 30,
        "injured": 12,
        "killed_by_actor": {"SYRIAN_GOV": 22, "IRAN_BACKED": 8},
        "evidence": EVIDENCE_AR,
        "confidence": 0.9,
        "article_ids": ["art-1"],
        "sources": ["SOHR"],
        "urls": ["https://www.syriahr.com/en/000001/"],
        "revision": 1,
    }
    data.update(overrides)
    return data


def alert(alert_id: str = "alert-0001", revision: int = 1, **overrides: Any) -> dict[str, Any]:
    """An alert as it travels on the ``alerts`` topic (contract fields + extensions)."""
    data: dict[str, Any] = {
        "schema": 1,
        "id": alert_id,
        "rule": "incident_toll",
        "severity": "critical",
        "incident_ids": ["inc-dy-0001"],
        "summary_ar": SUMMARY_AR,
        "summary_en": "30 killed in ISIS attack on government positions near Al-Mayadin",
        "revision": revision,
        "created_at": "2024-03-15T06:12:00+00:00",
        "kind": "incident",
        "incident": incident(),
        "changes": [],
    }
    data.update(overrides)
    return data


def injection_alert(alert_id: str = "alert-inject") -> dict[str, Any]:
    """An article trying to ping everyone and to disguise a link."""
    evil = "<!channel> عاجل <@U123ABC> اضغط <https://evil.example/x|https://www.bbc.com> & <!here>"
    return alert(
        alert_id,
        summary_en="<!channel> 5 killed <@U123ABC> see <https://evil.example|bbc.com>",
        summary_ar=evil,
        incident=incident(
            evidence=evil,
            sources=["<!everyone>"],
            urls=["https://evil.example/a>b|c", "javascript:alert(1)"],
            location={"name_ar": "<!channel>", "name_en": "<@U999>", "admin1": "SY-DY"},
        ),
    )


def example_alert() -> dict[str, Any]:
    """The README's example (docs/example-alert.json is this alert rendered)."""
    return alert(
        "alert-2024-03-15-dy-0001",
        incident=incident(
            sources=["SOHR", "Deir Ezzor 24"],
            urls=["https://www.syriahr.com/en/000001/", "https://deirezzor24.net/ar/000002"],
        ),
    )
