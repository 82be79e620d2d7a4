"""Human names for the contract's codes, as tables (data, not logic).

Why a table: the Slack message is read by people at 3 a.m., who should see
"Syrian government forces" and "Deir ez-Zor", not ``SYRIAN_GOV`` and ``SY-DY``.
Unknown codes fall back to the code itself, so a new actor upstream never breaks rendering.
"""

from __future__ import annotations

ACTOR_NAMES: dict[str, str] = {
    "ISIS": "ISIS",
    "SYRIAN_GOV": "Syrian government forces",
    "IRAN_BACKED": "Iran-backed militias",
    "RUSSIA": "Russian forces",
    "SDF": "SDF",
    "COALITION": "International coalition",
    "TURKEY": "Turkish forces",
    "IRAQ_GOV": "Iraqi government forces",
    "OPPOSITION": "Opposition factions",
    "HTS": "HTS",
    "ISRAEL": "Israel",
    "CIVILIANS": "Civilians",
    "UNKNOWN": "Unknown",
}

GOVERNORATE_NAMES: dict[str, str] = {
    "SY-DI": "Damascus",
    "SY-RD": "Rif Dimashq",
    "SY-DR": "Daraa",
    "SY-SU": "As-Suwayda",
    "SY-QU": "Quneitra",
    "SY-HI": "Homs",
    "SY-HM": "Hama",
    "SY-HL": "Aleppo",
    "SY-ID": "Idlib",
    "SY-LA": "Latakia",
    "SY-TA": "Tartus",
    "SY-RA": "Raqqa",
    "SY-DY": "Deir ez-Zor",
    "SY-HA": "Al-Hasakah",
}

SEVERITY_EMOJI: dict[str, str] = {
    "critical": "\U0001f534",  # red circle
    "warning": "\U0001f7e0",  # orange circle
    "info": "\U0001f535",  # blue circle
}

QUALIFIER_WORDS: dict[str, str] = {
    "approx": "about ",
    "more_than": "more than ",
    "at_least": "at least ",
    "vague": "~",
}


def actor_name(code: str) -> str:
    return ACTOR_NAMES.get(code, code)


def governorate_name(code: str | None) -> str | None:
    if not code:
        return None
    return GOVERNORATE_NAMES.get(code, code)
