"""Incident identity is a function of the set of reports (issue #12 items 3, 4 and 9).

The merge step (``stream.merge_step.MergeBook``: the agent's tables as dicts) is fed the
same reports in every order; the incidents must be the same groups with the same tolls and
ids. Then the cases that must merge (the Sukhnah attack told with two event types, a border
event told in two governorates, twins joined by a later report) and those that must not
(an ambush 7 km away, a bombing two days later, an unknown perpetrator's clash).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import permutations
from typing import Any

from marsad.records import Location
from stream.merge import Candidate, MergeConfig, place_relation, same_event
from stream.merge_step import MergeBook, partition_key
from tests.unit.stream.helpers import NOW, candidate

CFG = MergeConfig()
SUKHNAH = Location(name_ar="السخنة", name_en="Al-Sukhnah", admin1="SY-HI", lat=34.884, lon=38.872)
EAST_HOMS = Location(name_ar="ريف حمص الشرقي", name_en="Homs Governorate", admin1="SY-HI")
DEIR_BADIA = Location(name_ar="بادية دير الزور", name_en="Deir ez-Zor Governorate", admin1="SY-DY")
EAST_HAMA = Location(name_ar="ريف حماة الشرقي", name_en="Hama Governorate", admin1="SY-HM")
T3 = Location(
    name_ar="المحطة الثالثة", name_en="T3 Pumping Station", admin1="SY-HI", lat=34.65, lon=38.5
)
TALBISEH = Location(name_ar="تلبيسة", name_en="Talbiseh", admin1="SY-HI", lat=34.84, lon=36.73)
DAY = date(2023, 3, 6)
ATTACK = "هجوم لخلايا تنظيم داعش على مواقع قوات النظام في بادية السخنة شرقي حمص"


def report(aid: str, minutes: int, **kw: Any) -> Candidate:
    fields: dict[str, Any] = {"location": SUKHNAH, "occurred_on": DAY, **kw}
    cand = candidate(aid, source=f"outlet-{aid}", **fields)
    published = datetime(2023, 3, 6, 18, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    return cand.model_copy(update={"published_at": published})


def sukhnah() -> list[Candidate]:
    """Five reports of one ISIS attack: tolls 12, 14, 12, 17 + 3 attackers, 17; two name
    the government side in words the actor lexicon lacks (no target: another event type)."""
    unnamed: dict[str, Any] = {
        "event_type": "Violence against civilians",
        "sub_event_type": "Attack",
        "targets": [],
    }
    return [
        report("s1", 0, killed=12, evidence=ATTACK),
        report("s2", 40, killed=14, evidence=ATTACK + " ومقتل 14 عنصرا", **unnamed),
        report("s3", 90, killed=12, location=EAST_HOMS, evidence="مقتل 12 عنصرا بهجوم لداعش"),
        report(
            "s4",
            300,
            killed=20,
            killed_by_actor={"SYRIAN_GOV": 17, "ISIS": 3},
            evidence=ATTACK + " مقتل 17 عنصرا و3 من المهاجمين",
        ),
        report("s5", 600, killed=17, evidence="ارتفاع حصيلة هجوم داعش في السخنة الى 17", **unnamed),
    ]


def run(cands: list[Candidate]) -> list[tuple[str, tuple[str, ...], int | None]]:
    """The open incidents after ``cands`` in this order: (id, reports, toll), sorted."""
    book = MergeBook(CFG)
    for cand in cands:
        book.add(partition_key(cand.incident), cand, NOW)
    return sorted((i.id, tuple(i.article_ids), i.killed) for i in book.incidents.values())


def test_every_order_of_the_sukhnah_reports_gives_one_incident() -> None:
    cands = sukhnah()
    results = {tuple(run(list(order))) for order in permutations(cands)}
    assert len(results) == 1, results
    ((only,),) = results
    assert only[1] == ("s1", "s2", "s3", "s4", "s5")  # named and ordered by the first report
    assert only[2] == 20  # the highest toll


def test_every_order_of_two_events_gives_the_same_groups() -> None:
    elsewhere = Location(
        name_ar="الميادين", name_en="Al-Mayadin", admin1="SY-DY", lat=35.02, lon=40.45
    )
    cands = [
        *sukhnah()[:3],
        report("m1", 5, killed=4, location=elsewhere, perpetrator="UNKNOWN", evidence="انفجار"),
        report("m2", 70, killed=5, location=elsewhere, perpetrator="UNKNOWN", evidence="انفجار"),
    ]
    results = {tuple(run(list(order))) for order in permutations(cands)}
    assert len(results) == 1, results
    ((a, b),) = results
    assert sorted([a[1], b[1]]) == [("m1", "m2"), ("s1", "s2", "s3")]
    assert sorted([a[2] or 0, b[2] or 0]) == [5, 14]


def test_event_types_that_differ_do_not_split_the_sukhnah_attack() -> None:
    s1, s2 = sukhnah()[:2]
    assert s1.incident.event_type != s2.incident.event_type
    decision = same_event(s1, s2, CFG)
    assert decision is not None, "place, date, actor and words agree"


def test_twins_are_merged_when_a_later_report_joins_them() -> None:
    s1, _s2, s3, s4, _s5 = sukhnah()
    # s1 (Al-Sukhnah) and s3 (only the governorate, other words) do not match on their own
    # once s3's toll and words differ; s4 matches both.
    s3 = s3.model_copy(update={"incident": s3.incident.model_copy(update={"killed": 9})})
    book = MergeBook(CFG)
    key = partition_key(s1.incident)
    book.add(key, s3, NOW)
    first = book.add(key, s1, NOW)
    if len(book.incidents) == 1:  # they matched directly: nothing to merge later
        return
    assert first.is_new
    outcome = book.add(key, s4, NOW)
    assert len(book.incidents) == 1
    survivor = next(iter(book.incidents.values()))
    assert [a.merged_into for a in outcome.absorbed] == [survivor.id]
    assert survivor.killed == 20


def test_an_ambush_seven_km_away_the_same_day_stays_apart() -> None:
    village_a = Location(
        name_ar="قرية أ", name_en="Village A", admin1="SY-DY", lat=34.40, lon=40.90
    )
    village_b = Location(
        name_ar="قرية ب", name_en="Village B", admin1="SY-DY", lat=34.46, lon=40.92
    )
    a = report("a", 0, killed=6, location=village_a, evidence="هجوم لداعش على حاجز")
    b = report("b", 60, killed=3, location=village_b, evidence="كمين لداعش لدورية")
    assert same_event(a, b, CFG) is None


def test_a_bombing_two_days_after_a_clash_in_the_same_town_stays_apart() -> None:
    clash = report("c", 0, killed=5, evidence=ATTACK)
    bombing = report(
        "b",
        2 * 24 * 60,
        killed=5,
        occurred_on=DAY + timedelta(days=2),
        event_type="Explosions/Remote violence",
        sub_event_type="Remote explosive/landmine/IED",
        evidence=ATTACK,
    )
    assert same_event(clash, bombing, CFG) is None


def test_an_unknown_perpetrators_clash_is_not_joined_to_a_bombing() -> None:
    clash = report("c", 0, killed=2, perpetrator="UNKNOWN", evidence="اشتباكات بين مسلحين مجهولين")
    bombing = report(
        "b",
        60,
        killed=7,
        event_type="Explosions/Remote violence",
        sub_event_type="Remote explosive/landmine/IED",
        evidence="انفجار سيارة مفخخة قرب سوق المدينة",
    )
    assert same_event(clash, bombing, CFG) is None


def test_a_border_event_told_in_two_governorates_meets_and_merges() -> None:
    homs = report("h", 0, killed=11, location=EAST_HOMS, evidence="هجوم لداعش قرب محطة T2")
    deir = report("d", 30, killed=11, location=DEIR_BADIA, evidence="هجوم لداعش قرب محطة T2")
    assert partition_key(homs.incident) == partition_key(deir.incident) == "SY"
    assert same_event(homs, deir, CFG) is not None
    assert len(run([homs, deir])) == 1 and len(run([deir, homs])) == 1


def test_a_place_deep_in_the_next_governorate_is_no_border_event() -> None:
    """ISIS attacks in east Hama's desert and at the T3 station (50 km inside Homs) on one
    day are two events, however alike the reports; a place just over the line may be one."""
    evidence = "هجوم لخلايا داعش على نقطة لقوات النظام"
    hama = report("h", 0, location=EAST_HAMA, killed=None, evidence=evidence)
    deep = report("t", 30, location=T3, killed=14, evidence=evidence)
    near = report("n", 30, location=TALBISEH, killed=14, evidence=evidence)
    assert same_event(hama, deep, CFG) is None
    assert same_event(hama, near, CFG) is not None
    assert same_event(hama, deep, CFG.model_copy(update={"border_km": 60})) is not None


def drone_strike(aid: str, location: Location, evidence: str) -> Candidate:
    """A same-day drone strike with six dead, half an hour after the first report."""
    return report(
        aid,
        30,
        location=location,
        killed=6,
        event_type="Explosions/Remote violence",
        sub_event_type="Air/drone strike",
        evidence=evidence,
    )


def test_across_a_line_the_actor_alone_does_not_make_one_event() -> None:
    """Two provinces side by side hold many same-day events of one actor: reports that meet
    only across a governorate line need more than the perpetrator (``border_corroboration``):
    the same toll, the same kind of attack or alike wording."""
    quneitra = Location(name_ar="ريف القنيطرة", name_en="Quneitra Governorate", admin1="SY-QU")
    rif = Location(name_ar="ريف دمشق", name_en="Rif Dimashq Governorate", admin1="SY-RD")
    house = report("q", 0, location=quneitra, killed=1, evidence="استهداف منزل في بلدة طرنجة")
    strike = drone_strike("r", rif, "غارة مسيرة قرب الكسوة جنوب العاصمة")
    assert same_event(house, strike, CFG) is None
    # the same pair, were the actor enough across a line (and the evidence bar lower)
    lax = CFG.model_copy(
        update={"border_corroboration": 0.5, "min_evidence": 2.0, "toll_mismatch_weight": 0.0}
    )
    assert same_event(house, strike, lax)
    retold = report("t", 60, location=rif, killed=1, evidence="استهداف منزل في بلدة طرنجة")
    decision = same_event(house, retold, CFG)
    assert decision is not None and "same toll 1" in decision.reasons


def test_the_country_around_a_town_across_a_line_is_a_border_event() -> None:
    """ "جنوب القنيطرة" is an area around Quneitra; Al-Kiswah, 47 km away in Rif Dimashq,
    is inside that radius but across a line: a border event, held to its stronger test."""
    town = Location(name_ar="القنيطرة", name_en="Quneitra", admin1="SY-QU", lat=33.126, lon=35.824)
    around = town.model_copy(update={"vicinity": True})
    kiswah = Location(name_ar="الكسوة", name_en="Al-Kiswah", admin1="SY-RD", lat=33.36, lon=36.24)
    a = report("q", 0, location=around, killed=1, evidence="قصف اسرائيلي")
    b = drone_strike("k", kiswah, "غارة مسيرة")
    relation, why = place_relation(a.incident, b.incident, CFG)
    assert relation == "border" and "across a line" in why
    assert same_event(a, b, CFG) is None
    inside = kiswah.model_copy(update={"admin1": "SY-QU"})  # were Al-Kiswah in Quneitra
    assert place_relation(a.incident, report("i", 30, location=inside).incident, CFG)[0] == (
        "contained"
    )


def test_the_country_around_a_town_holds_a_point_near_it_but_the_town_does_not() -> None:
    """ "في البادية جنوب مدينة تدمر" is around Palmyra, an area: the T3 station 27 km away
    can be in it. Palmyra itself, a city, holds only its quarters and outskirts."""
    palmyra = Location(name_ar="تدمر", name_en="Palmyra", admin1="SY-HI", lat=34.56, lon=38.267)
    evidence = "هجوم لخلايا داعش على حافلة مبيت عسكرية في البادية"
    town = report("p", 0, location=palmyra, killed=9, evidence=evidence)
    around = report(
        "a", 0, location=palmyra.model_copy(update={"vicinity": True}), killed=9, evidence=evidence
    )
    station = report("t", 30, location=T3, killed=14, evidence=evidence)
    assert same_event(town, station, CFG) is None
    decision = same_event(around, station, CFG)
    assert decision is not None and any("T3 Pumping Station" in r for r in decision.reasons)


def test_both_reports_naming_what_was_attacked_is_evidence() -> None:
    """A governorate-level report without attacker or toll meets a desert ambush on one day:
    place and day alone never merge, but both telling of an attack on a bus is the event's
    own detail. Without that word (or without the objects list) they stay apart."""
    cfg = CFG.model_copy(update={"objects": ["حافلة", "حاجز"]})
    desert = Location(name_ar="بادية حمص", name_en="Homs Governorate", admin1="SY-HI")
    vague = dict(
        location=desert,
        perpetrator="UNKNOWN",
        targets=[],
        killed=None,
        event_type="Explosions/Remote violence",
        sub_event_type="Remote explosive/landmine/IED",
    )
    ambush = report(
        "a", 0, killed=23, evidence="كمين لخلايا التنظيم استهدف حافلة عسكرية قرب السخنة"
    )
    told = report(
        "b", 20, **vague, evidence="مجموعة إرهابية تعتدي على الحافلة ويرتقي عدد من العسكريين"
    )
    other = report(
        "c", 20, **vague, evidence="مجموعة إرهابية تعتدي على الحاجز ويرتقي عدد من العسكريين"
    )
    decision = same_event(ambush, told, cfg)
    assert decision is not None and "both name حافله" in decision.reasons
    assert same_event(ambush, other, cfg) is None
    assert same_event(ambush, told, CFG.model_copy(update={"objects": []})) is None
