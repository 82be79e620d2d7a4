"""The closed sets of marsad/records.py are the values actually produced, and typing the record
fields with them changed no byte on the wire.

Each set is a ``Literal`` written once in marsad/records.py. These tests tie every set to where
its values come from (the contract, the extractor's data files, what the extractor produces
on every gold article), so a value added in one place and not the other fails here instead of
drifting into a stale comment.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml

from marsad.errors import MarsadError
from marsad.records import (
    ACTOR_CODES,
    EVENT_TYPES,
    SUB_EVENT_TYPES,
    ActorCode,
    ActorRole,
    Alert,
    AlertKind,
    Article,
    CasualtyRole,
    DateKind,
    EventType,
    Extraction,
    Incident,
    Location,
    NumberQualifier,
    Qualifier,
    QuantityKind,
    RecordError,
    Severity,
    StoredIncident,
    SubEventType,
    Tally,
)

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "stream" / "extract" / "data"
CONTRACT = REPO.parent / "shared" / "CONTRACT.md"
GOLD_FILES = [
    REPO / "tests" / "fixtures" / name
    for name in ("train.jsonl", "test.jsonl", "dev_gold.jsonl", "dev_gold_2.jsonl",
                 "holdout_gold.jsonl")
]  # fmt: skip


def _yaml(name: str) -> Any:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


def _articles() -> list[Article]:
    out = []
    for path in GOLD_FILES:
        assert path.is_file(), f"{path} is tracked: missing fails, never skips"
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                row.pop("gold", None)
                out.append(Article.model_validate(row))
    return out


# -- the sets against their sources ----------------------------------------------------------


def test_actor_codes_are_the_contracts_and_the_extractors() -> None:
    assert get_args(ActorCode) == ACTOR_CODES
    assert len(set(ACTOR_CODES)) == len(ACTOR_CODES) == 13
    codes = {c for c in _yaml("actors.yaml")["actors"] if not c.startswith("@")}  # "@ORG": internal
    assert codes == set(ACTOR_CODES)
    assert CONTRACT.is_file(), "../shared/CONTRACT.md is provided beside the checkout"
    table = CONTRACT.read_text(encoding="utf-8").split("Actor codes:")[1].split("\n\n")[1]
    in_contract = [row.split("|")[1].strip() for row in table.splitlines()[2:]]
    assert in_contract == list(ACTOR_CODES)


def test_event_and_sub_event_types_are_one_set_each() -> None:
    assert EVENT_TYPES == get_args(EventType) == tuple(SUB_EVENT_TYPES)
    listed = [s for subs in SUB_EVENT_TYPES.values() for s in subs]
    assert sorted(listed) == sorted(get_args(SubEventType))
    assert len(set(listed)) == len(listed)


def test_casualty_roles_are_the_trigger_files_counting_roles() -> None:
    assert set(_yaml("triggers.yaml")["roles"]) == set(get_args(CasualtyRole))


def test_number_qualifiers_are_the_number_files_and_vague() -> None:
    numbers = _yaml("numbers.yaml")
    written = set(numbers["qualifiers_before"]) | set(numbers["qualifiers_after"])
    assert written | {"vague"} == set(get_args(NumberQualifier))
    assert set(get_args(Qualifier)) == set(get_args(NumberQualifier)) | {"exact"}


def test_severities_are_the_rules() -> None:
    from stream.rules import Level

    assert set(get_args(Level)) == set(get_args(Severity)) == {"info", "warning", "critical"}
    assert set(get_args(AlertKind)) == {"incident", "window", "surge"}


# -- the sets against what the extractor produces --------------------------------------------


@pytest.fixture(scope="module")
def produced() -> dict[str, set[Any]]:
    from stream.extract import extract
    from stream.extract.casualties import find_casualties
    from stream.extract.document import read
    from stream.extract.lexicon import lexicon

    lex = lexicon()
    seen: dict[str, set[Any]] = {
        k: set()
        for k in ("quantity", "qualifier", "role", "actor_role", "date", "codes", "subs", "quals")
    }
    for article in _articles():
        anchor = article.published_at.date() if article.published_at else None
        doc = read(article.text, anchor, lex)
        seen["quantity"] |= {q.kind for q in doc.quantities}
        seen["qualifier"] |= {q.qualifier for q in doc.quantities} - {None}
        seen["role"] |= {c.role for c in find_casualties(doc, lex)}
        seen["actor_role"] |= {a.role for a in doc.actors} - {None}
        seen["date"] |= {d.kind for d in doc.dates}
        out = extract(article)
        for inc in out.incidents:
            seen["codes"] |= {inc.perpetrator, *inc.targets, *inc.killed_by_actor}
            seen["subs"].add((inc.event_type, inc.sub_event_type))
            seen["quals"] |= {inc.killed_qualifier, inc.injured_qualifier} - {None}
        seen["codes"] |= {t.actor for t in out.tallies}
    return seen


def test_every_quantity_kind_is_produced_and_typed(produced: dict[str, set[Any]]) -> None:
    # "singular" ("مقتل عنصر" counts one) was missing from the comment that listed them
    assert produced["quantity"] == set(get_args(QuantityKind))
    assert produced["qualifier"] <= set(get_args(NumberQualifier))


def test_every_casualty_role_produced_is_typed(produced: dict[str, set[Any]]) -> None:
    # "arrested" (and "none") were missing from the comment that listed them
    assert produced["role"] == set(get_args(CasualtyRole))


def test_actor_roles_and_date_kinds_produced_are_typed(produced: dict[str, set[Any]]) -> None:
    assert produced["actor_role"] == set(get_args(ActorRole))
    assert produced["date"] == set(get_args(DateKind))


def test_incident_fields_produced_are_in_their_sets(produced: dict[str, set[Any]]) -> None:
    assert produced["codes"] <= set(ACTOR_CODES)
    assert all(sub in SUB_EVENT_TYPES[event] for event, sub in produced["subs"])
    assert produced["quals"] <= set(get_args(Qualifier))


# -- the wire ---------------------------------------------------------------------------------


def _incident(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict(
        event_type="Battles",
        sub_event_type="Armed clash",
        perpetrator="ISIS",
        targets=["SYRIAN_GOV", "IRAN_BACKED"],
        location=Location(name_ar="البوكمال", name_en="Al-Bukamal", admin1="SY-DY"),
        occurred_on=date(2018, 6, 8),
        killed=64,
        killed_by_actor={"SYRIAN_GOV": 41, "ISIS": 23},
        evidence="…",
        confidence=0.9,
        killed_qualifier="at_least",
    )
    base.update(over)
    return base


def test_the_json_on_the_wire_is_unchanged() -> None:
    """Pinned bytes, written before the fields were typed with the closed sets."""
    inc = StoredIncident(id="i1", article_ids=["a1"], revision=2, **_incident())
    alert = Alert(
        id="x1",
        rule="deadly",
        severity="critical",
        incident_ids=["i1"],
        created_at=datetime(2018, 6, 9, 7, 0, tzinfo=UTC),
        kind="incident",
    )
    tally = Tally(killed=239, actor="SYRIAN_GOV", since=date(2018, 5, 22), evidence="…")
    assert inc.to_json() == (
        '{"event_type":"Battles","sub_event_type":"Armed clash","perpetrator":"ISIS",'
        '"targets":["SYRIAN_GOV","IRAN_BACKED"],"location":{"name_ar":"البوكمال",'
        '"name_en":"Al-Bukamal","admin1":"SY-DY","lat":null,"lon":null,"vicinity":false},'
        '"occurred_on":"2018-06-08","killed":64,"injured":null,"captured":null,'
        '"killed_by_actor":{"SYRIAN_GOV":41,"ISIS":23},"background":false,"evidence":"…",'
        '"confidence":0.9,"killed_qualifier":"at_least","injured_qualifier":null,'
        '"summary_en":null,"evidence_span":null,"confidence_signals":[],"id":"i1",'
        '"article_ids":["a1"],"sources":[],"revision":2,"urls":[],"first_seen_at":null,'
        '"updated_at":null,"merged_into":null,"schema":1}'
    )
    assert alert.to_json() == (
        '{"id":"x1","rule":"deadly","severity":"critical","incident_ids":["i1"],'
        '"summary_ar":"","summary_en":"","revision":1,"created_at":"2018-06-09T07:00:00Z",'
        '"kind":"incident","incident":null,"window":null,"changes":[],"merged_into":null,'
        '"schema":1}'
    )
    assert Extraction(id="a1", tallies=[tally]).to_json() == (
        '{"id":"a1","incidents":[],"tallies":[{"killed":239,"injured":null,'
        '"actor":"SYRIAN_GOV","since":"2018-05-22","evidence":"…"}],"schema":1}'
    )
    assert StoredIncident.from_json(inc.to_json()).to_json() == inc.to_json()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("perpetrator", "DAESH"),
        ("targets", ["SYRIAN_GOV", "REGIME"]),
        ("killed_by_actor", {"NOBODY": 1}),
        ("sub_event_type", "Bombing"),
        ("killed_qualifier", "roughly"),
    ],
)
def test_a_value_outside_its_set_is_a_record_error(field: str, value: Any) -> None:
    raw = json.loads(Incident(**_incident()).to_json())
    raw[field] = value
    with pytest.raises(RecordError, match=field):
        Incident.from_json(raw)


def test_record_error_is_a_marsad_error_and_still_a_value_error() -> None:
    with pytest.raises(RecordError) as caught:
        Article.from_json("{not json")
    assert isinstance(caught.value, MarsadError)
    assert isinstance(caught.value, ValueError)
