"""The held-out gold file is well formed, speaks the contract's vocabularies and copies no seed.

`tests/fixtures/holdout_gold.jsonl` was written apart from the extractor so the README can report
how extraction generalises to text it was not tuned on. A typo in a code or a wrong
`max_incident_killed` would silently skew that score, so the data itself is checked here.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from marsad.geography import boundaries
from marsad.records import ACTOR_CODES, GOLD_FIELDS, GOLD_INCIDENT_FIELDS, SUB_EVENT_TYPES

REPO = Path(__file__).resolve().parents[3]
HOLDOUT = REPO / "tests" / "fixtures" / "holdout_gold.jsonl"
SEEDS_DIR = REPO.parent / "shared" / "seeds"

ACTORS = set(ACTOR_CODES)  # the contract's codes, from the records that carry them
SUB_EVENTS = {event: set(subs) for event, subs in SUB_EVENT_TYPES.items()}
SYRIA = {
    f["properties"]["admin1"]
    for f in boundaries()["features"]
    if f["properties"]["country"] == "SY"
}
ISO_3166_2 = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
ARTICLE_KEYS = {"id", "title", "text", "published_at", "source", "gold"}
GOLD_KEYS = set(GOLD_FIELDS)
INCIDENT_KEYS = {*GOLD_INCIDENT_FIELDS, "place"}
OPTIONAL_INCIDENT_KEYS = {"killed_by_actor", "background"}
SPAN = 12  # words: a shared run this long means a sentence was copied, not merely a phrase


def _rows() -> list[dict[str, Any]]:
    lines = HOLDOUT.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


ROWS = _rows()
IDS = [row["id"] for row in ROWS]


def _incidents() -> list[tuple[str, dict[str, Any]]]:
    return [(row["id"], inc) for row in ROWS for inc in row["gold"]["incidents"]]


def _count(value: Any) -> bool:
    return value is None or (type(value) is int and value >= 0)


def test_thirty_articles_numbered_in_order() -> None:
    assert len(HOLDOUT.read_text(encoding="utf-8").splitlines()) == 30
    assert [f"hold_{n:03d}" for n in range(1, 31)] == IDS


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_article_shape(row: dict[str, Any]) -> None:
    assert set(row) == ARTICLE_KEYS
    assert set(row["gold"]) == GOLD_KEYS
    for key in ("title", "text", "source", "notes"):
        value = row[key] if key != "notes" else row["gold"]["notes"]
        assert isinstance(value, str) and value.strip(), key
    published = datetime.fromisoformat(row["published_at"])
    assert published.utcoffset() == timedelta(hours=3)
    tallies = row["gold"]["tallies"]
    assert isinstance(tallies, list)
    assert all(type(t) is int and t > 0 for t in tallies)


@pytest.mark.parametrize(("article_id", "incident"), _incidents())
def test_incident_uses_contract_vocabulary(article_id: str, incident: dict[str, Any]) -> None:
    assert INCIDENT_KEYS <= set(incident) <= INCIDENT_KEYS | OPTIONAL_INCIDENT_KEYS
    assert _count(incident["killed"]) and _count(incident["injured"])
    admin1 = incident["admin1"]
    assert isinstance(admin1, list) and admin1
    for code in admin1:
        assert code in SYRIA or (ISO_3166_2.match(code) and not code.startswith("SY-")), code
    perpetrators = incident["perpetrator"]
    if isinstance(perpetrators, str):
        perpetrators = [perpetrators]
    assert perpetrators and set(perpetrators) <= ACTORS
    assert incident["targets"] and set(incident["targets"]) <= ACTORS
    assert incident["sub_event_type"] in SUB_EVENTS[incident["event_type"]]
    assert isinstance(incident["place"], str) and incident["place"].strip()
    assert isinstance(incident.get("background", False), bool)


@pytest.mark.parametrize(("article_id", "incident"), _incidents())
def test_incident_date_not_after_publication(article_id: str, incident: dict[str, Any]) -> None:
    if incident["occurred_on"] is None:
        return
    row = next(r for r in ROWS if r["id"] == article_id)
    published = datetime.fromisoformat(row["published_at"]).date()
    assert date.fromisoformat(incident["occurred_on"]) <= published


@pytest.mark.parametrize(("article_id", "incident"), _incidents())
def test_killed_by_actor_sums_to_killed(article_id: str, incident: dict[str, Any]) -> None:
    per_side = incident.get("killed_by_actor")
    if per_side is None:
        return
    assert set(per_side) <= ACTORS
    assert all(type(n) is int and n >= 0 for n in per_side.values())
    assert sum(per_side.values()) == incident["killed"]


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_max_incident_killed_ignores_background(row: dict[str, Any]) -> None:
    gold = row["gold"]
    tolls = [
        inc["killed"]
        for inc in gold["incidents"]
        if not inc.get("background", False) and inc["killed"] is not None
    ]
    assert gold["max_incident_killed"] == (max(tolls) if tolls else None)


def test_mix_covers_the_cases_the_readme_reports() -> None:
    """The set must exercise tallies, background recalls and empty articles, and many places."""
    tally_only = [r for r in ROWS if not r["gold"]["incidents"] and r["gold"]["tallies"]]
    empty = [r for r in ROWS if not r["gold"]["incidents"] and not r["gold"]["tallies"]]
    with_background = [r for r in ROWS if any(i.get("background") for i in r["gold"]["incidents"])]
    multi = [r for r in ROWS if len(r["gold"]["incidents"]) >= 2]
    codes = {i["admin1"][0] for _, i in _incidents()}
    assert len(tally_only) >= 3
    assert len(empty) >= 2
    assert len(with_background) >= 2
    assert len(multi) >= 5
    assert len(codes & SYRIA) >= 8
    assert len({c for c in codes if c.startswith("IQ-")}) >= 3
    assert len({i["place"] for _, i in _incidents()}) >= 20


_MARKS = re.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u0640]")  # tashkil and tatweel


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", _MARKS.sub("", text))


def _spans(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + SPAN]) for i in range(len(words) - SPAN + 1)}


def _seed_texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS_DIR.glob("*.txt"))]
    gold = SEEDS_DIR / "gold.jsonl"
    assert gold.is_file(), f"{gold} is missing: the check must run, not skip"
    for line in gold.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            texts.append(f"{row.get('title', '')}\n{row['text']}")
    return texts


def test_span_check_detects_a_copied_sentence() -> None:
    sentence = "قتل سبعة مدنيين وجرح اثنا عشر آخرون جراء غارة جوية روسية على أطراف بلدة بداما"
    assert _spans(sentence) & _spans(f"مقدمة مختلفة. {sentence} وخاتمة.")
    assert not _spans(sentence) & _spans("نص آخر لا يشترك معه في اثنتي عشرة كلمة متتالية أبداً")


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_no_sentence_copied_from_the_seeds(row: dict[str, Any]) -> None:
    assert SEEDS_DIR.is_dir(), "../shared/seeds is missing: the check must run, not skip"
    seeds: set[tuple[str, ...]] = set()
    for text in _seed_texts():
        seeds |= _spans(text)
    shared = _spans(f"{row['title']}\n{row['text']}") & seeds
    assert not shared, " ".join(next(iter(shared)))
