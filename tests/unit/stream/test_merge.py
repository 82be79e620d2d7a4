from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from marsad.records import Location
from stream.merge import (
    Candidate,
    MergeConfig,
    event_time,
    find_match,
    ids_near,
    incident_id,
    index_entry,
    merge_into,
    new_incident,
    prune_index,
    same_event,
    similarity,
)
from tests.unit.stream.helpers import HAMDAN, MAYADIN, NOW, candidate

CFG = MergeConfig()


def test_five_reports_three_sources_become_one_incident_with_rising_toll() -> None:
    reports = [
        candidate("a1", "SOHR", killed=30),
        candidate("a2", "SOHR", killed=64),
        candidate("a3", "Orient", killed=51),
        candidate("a4", "Enab Baladi", killed=64),
        candidate("a5", "AFP", killed=64),
    ]
    held = [new_incident(reports[0], NOW)]
    revisions = []
    for cand in reports[1:]:
        decision = find_match(held, cand, CFG)
        assert decision.incident_id == held[0].id, decision.reasons
        result = merge_into(held[0], cand, NOW)
        held[0] = result.incident
        revisions.append(result.revised)
    final = held[0]
    assert final.killed == 64
    assert final.revision == 2  # only 30 -> 64 revised; 51 and the repeats of 64 did not
    assert revisions == [True, False, False, False]
    assert final.sources == ["SOHR", "Orient", "Enab Baladi", "AFP"]
    assert final.article_ids == ["a1", "a2", "a3", "a4", "a5"]


def test_lower_toll_adds_source_without_lowering() -> None:
    held = new_incident(candidate("a1", killed=64), NOW)
    result = merge_into(held, candidate("a2", "Orient", killed=30), NOW)
    assert result.incident.killed == 64
    assert not result.revised and result.changed
    assert result.incident.revision == 1
    assert "Orient" in result.incident.sources


def test_same_report_twice_changes_nothing() -> None:
    held = new_incident(candidate("a1", killed=30), NOW)
    decision = find_match([held], candidate("a1", killed=30), CFG)
    assert decision.incident_id == held.id
    result = merge_into(held, candidate("a1", killed=30), NOW)
    assert not result.changed


def test_breakdown_follows_the_higher_toll() -> None:
    held = new_incident(candidate("a1", killed=51, killed_by_actor={"SYRIAN_GOV": 30}), NOW)
    result = merge_into(
        held, candidate("a2", killed=64, killed_by_actor={"SYRIAN_GOV": 41, "ISIS": 23}), NOW
    )
    assert result.incident.killed_by_actor == {"SYRIAN_GOV": 41, "ISIS": 23}
    assert result.changes == ["killed 51→64"]


def test_facts_filled_from_later_report_count_as_revision() -> None:
    held = new_incident(candidate("a1", perpetrator="UNKNOWN", occurred_on=None), NOW)
    result = merge_into(held, candidate("a2", perpetrator="ISIS"), NOW)
    assert result.revised
    assert result.incident.perpetrator == "ISIS"
    assert result.incident.occurred_on == date(2018, 6, 8)


def test_nearby_place_by_coordinates_matches() -> None:
    held = new_incident(candidate("a1"), NOW)
    decision = find_match([held], candidate("a2", location=HAMDAN), CFG)
    assert decision.incident_id == held.id
    assert any(" km " in r for r in decision.reasons)


def test_distant_named_place_does_not_match() -> None:
    held = new_incident(candidate("a1"), NOW)
    assert find_match([held], candidate("a2", location=MAYADIN), CFG).incident_id is None


def test_dates_too_far_apart_do_not_match() -> None:
    held = new_incident(candidate("a1"), NOW)
    far = candidate("a2", occurred_on=date(2018, 6, 20))
    assert find_match([held], far, CFG).incident_id is None


def test_incompatible_actors_do_not_match() -> None:
    held = new_incident(candidate("a1", perpetrator="ISIS", targets=["SYRIAN_GOV"]), NOW)
    other = candidate("a2", perpetrator="TURKEY", targets=["SDF"])
    assert find_match([held], other, CFG).incident_id is None


def test_same_fight_told_from_the_other_side_matches() -> None:
    held = new_incident(candidate("a1", perpetrator="ISIS", targets=["SYRIAN_GOV"]), NOW)
    mirrored = candidate("a2", perpetrator="SYRIAN_GOV", targets=["ISIS"])
    assert find_match([held], mirrored, CFG).incident_id == held.id


def test_event_type_disagreement_alone_does_not_split() -> None:
    """Place, date, actors and toll agree: one outlet's clash is another's attack."""
    held = new_incident(candidate("a1"), NOW)
    other = candidate(
        "a2",
        event_type="Violence against civilians",
        sub_event_type="Attack",
        targets=["CIVILIANS"],
    )
    assert find_match([held], other, CFG).incident_id == held.id


def test_clash_and_attack_agree_only_when_both_name_the_attacker() -> None:
    """ "هجوم على القرية" / "اشتباكات مع المهاجمين": with the attacker named on both sides the
    type is no counter-evidence; with it unknown on one, it is what tells two attacks apart."""
    cfg = MergeConfig(compatible_when_named=[("Battles", "Violence against civilians")])
    clash = candidate("a1", killed=None)
    attack = candidate(
        "a2", event_type="Violence against civilians", sub_event_type="Attack", killed=None
    )
    named = same_event(clash, attack, cfg)
    plain = same_event(clash, attack, CFG)
    assert named is not None and plain is not None
    assert named.score == pytest.approx(plain.score + 0.5)
    assert not any("Violence against civilians" in r for r in named.reasons)
    unknown = candidate(
        "a2",
        event_type="Violence against civilians",
        sub_event_type="Attack",
        perpetrator="UNKNOWN",
        killed=None,
    )
    told, before = same_event(clash, unknown, cfg), same_event(clash, unknown, CFG)
    assert told is not None and before is not None
    assert "Battles / Violence against civilians" in told.reasons
    assert told.score == before.score


def test_dead_of_other_sides_count_against_one_event() -> None:
    """Two loyalists killed by bombs in their cars, then seven civilians at their funeral."""
    first = candidate("a1", killed=2, killed_by_actor={"SYRIAN_GOV": 2})
    funeral = candidate("a2", killed=7, killed_by_actor={"CIVILIANS": 7})
    apart, plain = (
        same_event(first, funeral, CFG),
        same_event(
            first,
            funeral.model_copy(
                update={"incident": funeral.incident.model_copy(update={"killed_by_actor": {}})}
            ),
            CFG,
        ),
    )
    assert apart is not None and plain is not None
    assert apart.score == pytest.approx(plain.score - CFG.victims_mismatch_weight)
    assert "dead of other sides (SYRIAN_GOV / CIVILIANS)" in apart.reasons
    both = candidate("a3", killed=9, killed_by_actor={"CIVILIANS": 5, "SYRIAN_GOV": 4})
    shared = same_event(first, both, CFG)
    assert shared is not None and not any("other sides" in r for r in shared.reasons)


def test_other_event_type_other_toll_other_words_stay_apart() -> None:
    held = new_incident(candidate("a1", perpetrator="UNKNOWN"), NOW)
    other = candidate(
        "a2",
        event_type="Explosions/Remote violence",
        sub_event_type="Remote explosive/landmine/IED",
        perpetrator="UNKNOWN",
        killed=3,
        location=HAMDAN,
        evidence="انفجار عبوة ناسفة بسيارة عند حاجز",
    )
    assert find_match([held], other, CFG).incident_id is None


def test_no_place_needs_similar_text() -> None:
    held = new_incident(candidate("a1"), NOW)
    alike = candidate("a2", location=None)
    unlike = candidate("a3", location=None, evidence="انفجار عبوة ناسفة بسيارة في ريف بعيد")
    assert find_match([held], alike, CFG).incident_id == held.id
    assert find_match([held], unlike, CFG).incident_id is None


def test_best_match_wins_and_ties_are_deterministic() -> None:
    near = new_incident(candidate("a1", location=HAMDAN), NOW)
    same = new_incident(candidate("a2"), NOW)
    decision = find_match([near, same], candidate("a3"), CFG)
    assert decision.incident_id == same.id


def test_incident_id_is_stable() -> None:
    assert incident_id(candidate("a1")) == incident_id(candidate("a1", killed=99))
    assert incident_id(candidate("a1")) != incident_id(candidate("a1", index=1))


def test_prune_keeps_the_latest_event_days_up_to_the_cap() -> None:
    old = new_incident(candidate("a1", occurred_on=date(2018, 5, 1)), NOW)
    new = new_incident(candidate("a2", occurred_on=date(2018, 6, 8)), NOW)
    undated = new_incident(candidate("a3", occurred_on=None), NOW)
    index = [index_entry(i) for i in (new, old, undated)]
    assert index[2] == (undated.id, "2018-06-08")  # no date: the report's publication day
    kept, dropped = prune_index(index, MergeConfig(max_open=2))
    assert dropped == [old.id] and [e[0] for e in kept] == [new.id, undated.id]
    assert prune_index(index, CFG) == (index, [])


def test_ids_near_filters_by_the_date_gate_before_loading() -> None:
    index = [("x", "2018-06-01"), ("y", "2018-06-07"), ("z", None)]
    assert ids_near(index, candidate("a1"), CFG) == ["y", "z"]  # candidate day 2018-06-08


def test_event_time_is_noon_of_the_event_date() -> None:
    inc = new_incident(candidate("a1"), NOW)
    assert event_time(inc).isoformat() == "2018-06-08T12:00:00+00:00"


def test_similarity_ignores_prefixes_and_diacritics() -> None:
    assert similarity("قُتل عناصر النظام", "قتل عناصر نظام") == 1.0
    assert similarity("", "x") == 0.0


def test_place_names_normalised() -> None:
    a = new_incident(candidate("a1"), NOW)
    b = candidate(
        "a2",
        location=Location(name_ar="مدينة البوكمال", name_en="Albukamal", admin1="SY-DY"),
    )
    decision = find_match([a], b, CFG)
    assert decision.incident_id == a.id
    assert "same place" in decision.reasons


def test_an_incident_keeps_which_of_each_article_s_incidents_its_reports_are() -> None:
    """``article_positions``: a report's lead (#0) is told apart from a side mention (#1)."""
    from stream.merge import group_incident

    lead, side = candidate("a1", killed=30), candidate("a2", "Orient", index=1, killed=30)
    grouped = group_incident([side, lead], NOW).incident
    assert grouped.article_positions == ["a1#0", "a2#1"]
    held = new_incident(lead, NOW)
    folded = merge_into(held, side, NOW).incident
    assert folded.article_positions == ["a1#0", "a2#1"]
    assert "article_positions" in folded.to_json()


def test_a_guessed_perpetrator_does_not_contradict_a_named_one() -> None:
    """A perpetrator the rules guessed (the first side named that is no victim: often the
    victims' own side) is no contradiction: the two reports still meet on place and toll."""
    held = new_incident(candidate("a1", perpetrator="ISIS", targets=["CIVILIANS"]), NOW)
    guessed = candidate("a2", perpetrator="SYRIAN_GOV", targets=["CIVILIANS"])
    named = candidate("a3", perpetrator="SYRIAN_GOV", targets=["CIVILIANS"])
    assert find_match([held], named, CFG).incident_id is None
    guessed.incident.perpetrator_inferred = True
    decision = find_match([held], guessed, CFG)
    assert decision.incident_id == held.id
    assert "perpetrator guessed on one side" in decision.reasons


def test_a_toll_that_falls_to_a_third_tells_against_one_event() -> None:
    """Thirty dead, then a later report of two in the same town on the same day: two events
    unless the words say otherwise. A toll that rises (two, then thirty: the dead counted)
    or one a little lower is no evidence against."""
    base: dict[str, Any] = {"perpetrator": "UNKNOWN", "evidence": ""}  # place, day, type

    def report(article_id: str, killed: int, hour: int) -> Candidate:
        cand = candidate(article_id, killed=killed, **base)
        assert cand.published_at is not None
        return cand.model_copy(update={"published_at": cand.published_at.replace(hour=hour)})

    thirty = report("a1", 30, 9)
    assert same_event(thirty, report("a2", 24, 12), CFG) is not None
    assert same_event(thirty, report("a3", 2, 12), CFG) is None
    assert same_event(report("a4", 2, 8), thirty, CFG) is not None  # risen
    held = new_incident(thirty, NOW)
    assert find_match([held], report("a3", 2, 12), CFG).incident_id is None
    lenient = CFG.model_copy(update={"toll_mismatch_weight": 0.0})
    assert same_event(thirty, report("a3", 2, 12), lenient) is not None


def test_allied_sides_do_not_contradict() -> None:
    """Russian or regime jets, a coalition of factions or its member: one attack credited to
    either of two allied sides still meets on place, day and toll; a misspelt side in the
    configuration stops start-up."""
    russia = candidate("a1", perpetrator="RUSSIA", targets=["CIVILIANS"])
    regime = candidate("a2", perpetrator="SYRIAN_GOV", targets=["CIVILIANS"])
    assert same_event(russia, regime, CFG) is None
    allied = CFG.model_copy(update={"allied_sides": [("RUSSIA", "SYRIAN_GOV")]})
    decision = same_event(russia, regime, allied)
    assert decision is not None and "allied sides (RUSSIA / SYRIAN_GOV)" in decision.reasons
    with pytest.raises(ValidationError):
        MergeConfig.model_validate({"allied_sides": [["RUSSIA", "SYRIAN_GOVT"]]})


def test_a_guessed_perpetrator_that_agrees_counts_half() -> None:
    """Two reports naming the Iraqi army as the side that answered an attack agree on a guess,
    not on who attacked: half the evidence of a named perpetrator."""
    named = same_event(candidate("a1"), candidate("a2"), CFG)
    guess = candidate("a2")
    guess.incident.perpetrator_inferred = True
    guessed = same_event(candidate("a1"), guess, CFG)
    assert named is not None and guessed is not None
    assert named.score - guessed.score == pytest.approx(0.5)
    assert "same perpetrator ISIS, guessed on one side" in guessed.reasons


def test_a_massacre_named_by_both_reports_is_evidence() -> None:
    """ "مجزرة الحولة" / "المجزرة التي شهدتها الحولة": the shipped rules count a massacre
    named by both reports like a bus or a checkpoint both name."""
    from stream.merge import _objects
    from stream.rules import load_rules

    shipped = load_rules(Path(__file__).resolve().parents[3] / "config" / "rules.yaml").merge
    assert _objects("ارتفع عدد ضحايا المجزرة التي شهدتها الحولة", shipped)
    assert _objects("مجزرة الحولة", shipped) == _objects("بالمجزرة في تلدو", shipped)
    assert not _objects("قصف مدفعي على الحولة", shipped)
