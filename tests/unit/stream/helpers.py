"""Builders for stream unit tests: incidents and candidates with sensible defaults."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from marsad.records import Incident, Location
from stream.merge import Candidate

BUKAMAL = Location(name_ar="البوكمال", name_en="Al-Bukamal", admin1="SY-DY", lat=34.45, lon=40.92)
HAMDAN = Location(name_ar="الحمدان", name_en="Al-Hamdan", admin1="SY-DY", lat=34.47, lon=40.86)
MAYADIN = Location(name_ar="الميادين", name_en="Al-Mayadin", admin1="SY-DY", lat=35.02, lon=40.45)
NOW = datetime(2018, 6, 9, 12, 0, tzinfo=UTC)


def incident(**kw: Any) -> Incident:
    data: dict[str, Any] = {
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "perpetrator": "ISIS",
        "targets": ["SYRIAN_GOV"],
        "location": BUKAMAL,
        "occurred_on": date(2018, 6, 8),
        "killed": 30,
        "evidence": "هجوم عنيف لعناصر التنظيم على مواقع قوات النظام في مدينة البوكمال",
    }
    data.update(kw)
    return Incident(**data)


def candidate(article_id: str, source: str = "SOHR", index: int = 0, **kw: Any) -> Candidate:
    return Candidate(
        article_id=article_id,
        index=index,
        source=source,
        url=f"https://example.org/{article_id}",
        published_at=datetime(2018, 6, 8, 9, 0, tzinfo=UTC),
        incident=incident(**kw),
    )
