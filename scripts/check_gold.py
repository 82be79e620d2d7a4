"""Check a gold JSONL file against the shape of ../shared/GOLD-CONVENTIONS.md.

Why: the corpus is written by several hands; a typo in a code or a missing field would
silently skew every figure computed from it. Usage: python scripts/check_gold.py FILE...
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from marsad.records import (  # noqa: E402  (the contract's codes and gold shape)
    ACTOR_CODES,
    GOLD_FIELDS,
    GOLD_INCIDENT_FIELDS,
    SUB_EVENT_TYPES,
)

ACTORS = set(ACTOR_CODES)
EVENTS = {event: set(subs) for event, subs in SUB_EVENT_TYPES.items()}
CATEGORIES = {"single", "rising", "multi", "tally", "negative"}
ADMIN = re.compile(r"^(SY|IQ|LB|TR|JO|IL|PS)-[A-Z0-9]{1,3}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _codes(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def check_line(obj: dict[str, Any]) -> list[str]:
    errs: list[str] = []
    for key in ("id", "title", "text", "published_at", "source", "url", "gold"):
        if key not in obj:
            errs.append(f"missing {key}")
    if errs:
        return errs
    if obj.get("category") is not None and obj["category"] not in CATEGORIES:
        errs.append(f"category {obj['category']!r}")
    gold = obj["gold"]
    for key in GOLD_FIELDS:
        if key not in gold:
            errs.append(f"gold missing {key}")
    if errs:
        return errs
    live: list[int] = []
    for i, inc in enumerate(gold["incidents"]):
        where = f"incident {i}"
        for key in GOLD_INCIDENT_FIELDS:
            if key not in inc:
                errs.append(f"{where} missing {key}")
        for key in ("killed", "injured"):
            v = inc.get(key)
            if v is not None and (not isinstance(v, int) or v < 0):
                errs.append(f"{where} {key}={v!r}")
        for code in _codes(inc.get("admin1")):
            if not isinstance(code, str) or not ADMIN.match(code):
                errs.append(f"{where} admin1 {code!r}")
        for code in _codes(inc.get("perpetrator")) + list(inc.get("targets") or []):
            if code not in ACTORS:
                errs.append(f"{where} actor {code!r}")
        et = inc.get("event_type")
        if et not in EVENTS:
            errs.append(f"{where} event_type {et!r}")
        elif inc.get("sub_event_type") not in EVENTS[et]:
            errs.append(f"{where} sub_event_type {inc.get('sub_event_type')!r} for {et}")
        d = inc.get("occurred_on")
        if d is not None and not (isinstance(d, str) and DATE.match(d)):
            errs.append(f"{where} occurred_on {d!r}")
        if not inc.get("background") and isinstance(inc.get("killed"), int):
            live.append(inc["killed"])
    if not all(isinstance(t, int) for t in gold["tallies"]):
        errs.append("tallies must be integers")
    expect = max(live) if live else None
    if gold["max_incident_killed"] != expect:
        errs.append(f"max_incident_killed {gold['max_incident_killed']!r} != {expect!r}")
    return errs


def main(paths: list[str]) -> int:
    bad = 0
    seen: set[str] = set()
    for path in paths:
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                print(f"{path}:{n}: not JSON: {exc}")
                bad += 1
                continue
            errs = check_line(obj)
            if obj.get("id") in seen:
                errs.append(f"duplicate id {obj.get('id')}")
            seen.add(obj.get("id"))
            for e in errs:
                print(f"{path}:{n}: {obj.get('id')}: {e}")
            bad += bool(errs)
    print(f"{len(seen)} articles, {bad} with problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
