"""Incidents and corrections for the digest's tests, placed in time around a fixed clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from marsad.records import StoredIncident
from tests.support import alert_samples as samples

DAMASCUS = ZoneInfo("Asia/Damascus")
#: the digest's moment in the tests: 08:00 in Damascus (UTC+3) on Wednesday 2 December 2026
MORNING = datetime(2026, 12, 2, 8, 0, tzinfo=DAMASCUS)


def place(admin1: str | None, name_en: str = "Somewhere", name_ar: str = "مكان") -> dict[str, Any]:
    return {"name_ar": name_ar, "name_en": name_en, "admin1": admin1}


def incident(
    inc_id: str,
    killed: int | None,
    first_seen: datetime | None,
    **overrides: Any,
) -> StoredIncident:
    """A stored incident first reported at ``first_seen`` (no event day unless given)."""
    data = samples.incident(
        id=inc_id,
        killed=killed,
        injured=None,
        killed_by_actor={},
        occurred_on=None,
        first_seen_at=first_seen.astimezone(UTC).isoformat() if first_seen else None,
        urls=[f"https://news.example.org/{inc_id}"],
    )
    data.update(overrides)
    return StoredIncident.from_json(data)


@dataclass(frozen=True)
class Fix:
    """A correction as the action store returns one (the digest reads only these fields)."""

    alert_id: str
    kind: str
    at: datetime
    user: str = "U0ANALYST"
    incident_id: str | None = None
    killed: int | None = None
    injured: int | None = None
    duplicate_of: str | None = None
    note: str = ""
