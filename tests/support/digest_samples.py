"""Incidents and corrections for the digest's tests, placed in time around a fixed clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from alerts.digest.build import Digest, build_digest
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


def example_digest() -> Digest:
    """The digest shown in the docs (docs/render_digest.py): a made-up morning, our own
    incidents in four governorates (one revised, one merged into another), the fortnight
    before for the week-over-week change, three muted alerts and two corrections."""
    hour = timedelta(hours=1)
    mayadin = place("SY-DY", "Al-Mayadin", "الميادين")
    afrin = place("SY-HL", "Afrin", "عفرين")
    url = "https://news.example.org/{}".format
    attack = {"location": mayadin, "perpetrator": "ISIS", "targets": ["SYRIAN_GOV"]}
    shelling = {"location": afrin, "perpetrator": "TURKEY", "targets": ["SDF"], "injured": 5}
    incs = [
        incident(
            "inc-dy-0412",
            30,
            MORNING - 14 * hour,
            **attack,
            injured=12,
            occurred_on="2026-12-01",
            urls=[url("mayadin-attack"), url("mayadin-2")],
        ),
        incident("inc-dy-0415", 28, MORNING - 13 * hour, **attack, merged_into="inc-dy-0412"),
        incident(
            "inc-hi-0207",
            9,
            MORNING - 20 * hour,
            location=place("SY-HI", "Al-Sukhnah", "السخنة"),
            perpetrator="ISIS",
            targets=["IRAN_BACKED"],
            urls=[url("sukhnah-ambush")],
        ),
        incident("inc-hl-0133", 3, MORNING - 9 * hour, **shelling, urls=[url("afrin-shelling")]),
        incident(
            "inc-hl-0133",
            4,
            MORNING - 9 * hour,
            **shelling,
            revision=2,
            urls=[url("afrin-shelling")],
        ),
        incident(
            "inc-dr-0098",
            2,
            MORNING - 5 * hour,
            location=place("SY-DR", "Daraa al-Balad", "درعا البلد"),
            perpetrator="UNKNOWN",
            targets=["CIVILIANS"],
            urls=[url("daraa-ied")],
        ),
    ]
    for day in range(1, 14):
        incs.append(
            incident(
                f"inc-past-{day}",
                6 if day < 7 else 11,
                MORNING - timedelta(days=day, hours=2),
                location=mayadin if day % 2 else afrin,
            )
        )
    fixes = [
        Fix(
            "alert-7f3a",
            "wrong_toll",
            MORNING - 6 * hour,
            killed=9,
            user="U07RANIA",
            note="SOHR revised to 9",
        ),
        Fix(
            "alert-81c2", "duplicate", MORNING - 3 * hour, duplicate_of="alert-7f3a", user="U05OMAR"
        ),
    ]
    return build_digest(incs, MORNING, DAMASCUS, muted=3, corrections=fixes)
