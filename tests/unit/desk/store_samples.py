"""Records for the store's tests: incidents revised, merged and redelivered, their alerts and
articles (our own sentences, in the reports' style)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from marsad.records import Alert, Article, StoredIncident

EVIDENCE = "قُتل 12 عنصراً من قوات النظام بهجوم لخلايا تنظيم الدولة في بادية الميادين"


def incident(incident_id: str = "inc-1", revision: int = 1, **overrides: Any) -> StoredIncident:
    data: dict[str, Any] = {
        "id": incident_id,
        "revision": revision,
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "perpetrator": "ISIS",
        "targets": ["SYRIAN_GOV"],
        "location": {
            "name_ar": "الميادين",
            "name_en": "Al-Mayadin",
            "admin1": "SY-DY",
            "lat": 35.02,
            "lon": 40.45,
        },
        "occurred_on": "2024-03-14",
        "killed": 12,
        "injured": 3,
        "killed_by_actor": {"SYRIAN_GOV": 12},
        "evidence": EVIDENCE,
        "confidence": 0.9,
        "article_ids": ["art-1"],
        "sources": ["SOHR"],
        "urls": ["https://example.org/1"],
        "first_seen_at": "2024-03-14T09:00:00+03:00",
        "updated_at": "2024-03-14T09:00:00+03:00",
    }
    data.update(overrides)
    return StoredIncident.model_validate(data)


def article(article_id: str = "art-1", **overrides: Any) -> Article:
    data: dict[str, Any] = {
        "id": article_id,
        "title": "هجوم في بادية الميادين",
        "text": EVIDENCE,
        "url": f"https://example.org/{article_id}",
        "source": "SOHR",
        "published_at": "2024-03-14T08:30:00+03:00",
    }
    data.update(overrides)
    return Article.model_validate(data)


def alert(alert_id: str = "alert-1", revision: int = 1, **overrides: Any) -> Alert:
    data: dict[str, Any] = {
        "id": alert_id,
        "rule": "incident_toll",
        "severity": "critical",
        "incident_ids": ["inc-1"],
        "summary_ar": "12 قتيلاً من قوات النظام",
        "summary_en": "12 killed near Al-Mayadin",
        "revision": revision,
        "created_at": datetime(2024, 3, 14, 7, 0, tzinfo=UTC),
        "kind": "incident",
    }
    data.update(overrides)
    return Alert.model_validate(data)


DAY = date(2024, 3, 14)
