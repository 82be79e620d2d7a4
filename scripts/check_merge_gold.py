"""Check a merge-evaluation JSONL file (reports labelled with the real event they tell).

Why: merge figures are computed over which reports share a gold ``event``; a typo in an event
id silently splits an event and a wrong date makes a true merge look wrong. The shape is in
docs/merge-brief.md. Usage: python scripts/check_merge_gold.py FILE...
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from marsad.records import ACTOR_CODES, SUB_EVENT_TYPES  # noqa: E402  (the contract's codes)
from scripts.check_gold import ADMIN, DATE, _codes  # noqa: E402  (the corpus checker's shapes)

EVENT = re.compile(r"^[a-z0-9]+_E\d{3}$")


def check_line(obj: dict[str, Any]) -> list[str]:
    errs: list[str] = []
    for key in ("id", "title", "text", "published_at", "source", "url", "gold"):
        if not obj.get(key):
            errs.append(f"missing {key}")
    if errs:
        return errs
    gold = obj["gold"]
    for key in ("event", "killed", "admin1", "occurred_on", "perpetrator", "event_type", "notes"):
        if key not in gold:
            errs.append(f"gold missing {key}")
    if errs:
        return errs
    if not EVENT.match(str(gold["event"])):
        errs.append(f"event id {gold['event']!r} (want <prefix>_E001)")
    killed = gold["killed"]
    if killed is not None and (not isinstance(killed, int) or killed < 0):
        errs.append(f"killed={killed!r}")
    for code in _codes(gold["admin1"]):
        if not isinstance(code, str) or not ADMIN.match(code):
            errs.append(f"admin1 {code!r}")
    for code in _codes(gold["perpetrator"]):
        if code not in ACTOR_CODES:
            errs.append(f"perpetrator {code!r}")
    if gold["event_type"] not in SUB_EVENT_TYPES:
        errs.append(f"event_type {gold['event_type']!r}")
    day = gold["occurred_on"]
    if not isinstance(day, str) or not DATE.match(day):
        errs.append(f"occurred_on {day!r}")
    elif str(obj["published_at"])[:10] < day:
        errs.append(f"published_at {obj['published_at']} before occurred_on {day}")
    return errs


def check_file(path: Path) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    events: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{n}: not JSON: {exc}")
            continue
        for err in check_line(obj):
            problems.append(f"{path}:{n} {obj.get('id')}: {err}")
        if obj.get("id") in seen:
            problems.append(f"{path}:{n}: duplicate id {obj.get('id')}")
        seen.add(str(obj.get("id")))
        if isinstance(obj.get("gold"), dict) and "event" in obj["gold"]:
            events[str(obj["gold"]["event"])].append(obj)
    for event, reports in sorted(events.items()):
        days = {r["gold"]["occurred_on"] for r in reports}
        if len(days) > 1:
            problems.append(f"{path}: {event}: reports disagree on occurred_on {sorted(days)}")
        stamps = [(r["source"], r["published_at"]) for r in reports]
        if len(set(stamps)) < len(stamps):
            problems.append(f"{path}: {event}: one outlet, one time, twice {sorted(stamps)}")
    return problems


def summary(path: Path) -> str:
    events: dict[str, int] = defaultdict(int)
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            events[json.loads(line)["gold"]["event"]] += 1
    multi = sum(1 for c in events.values() if c > 1)
    return (
        f"{path}: {sum(events.values())} reports, {len(events)} events "
        f"({multi} told by several outlets, {len(events) - multi} by one)"
    )


def main(argv: list[str]) -> int:
    problems = [p for name in argv for p in check_file(Path(name))]
    for p in problems:
        print(p)
    for name in argv:
        print(summary(Path(name)))
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
