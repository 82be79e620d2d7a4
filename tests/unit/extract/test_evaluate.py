"""The scoring rules of `marsad eval`, on hand-made extractions."""

from marsad.records import Extraction, Incident, Location
from stream.extract.evaluate import aggregate, render, score_article


def inc(
    killed: int | None, admin1: str, *, background: bool = False, perp: str = "ISIS"
) -> Incident:
    return Incident(
        killed=killed,
        background=background,
        perpetrator=perp,
        location=Location(name_ar="x", name_en="x", admin1=admin1),
    )


GOLD = {
    "incidents": [
        {
            "killed": 12,
            "admin1": ["SY-DY", "SY-HI"],
            "perpetrator": ["ISIS", "UNKNOWN"],
            "event_type": "Battles",
        },
        {"killed": None, "admin1": ["SY-RA"], "perpetrator": "SDF", "event_type": "Battles"},
        {
            "killed": 30,
            "admin1": ["SY-DY"],
            "background": True,
            "perpetrator": "RUSSIA",
            "event_type": "Explosions/Remote violence",
        },
    ],
    "tallies": [410, 7],
    "max_incident_killed": 12,
}


def test_perfect_extraction_scores_one() -> None:
    ex = Extraction(
        id="a",
        incidents=[
            inc(12, "SY-HI"),
            inc(None, "SY-RA", perp="SDF"),
            inc(30, "SY-DY", background=True),
        ],
    )
    s = score_article("a", GOLD, ex)
    f = aggregate([s])
    assert (f.max_toll_exact, f.alert_precision, f.alert_recall) == (1.0, 1.0, 1.0)
    assert (f.incident_precision, f.incident_recall, f.tally_leaks) == (1.0, 1.0, 0)
    assert (f.largest_admin1, f.largest_perpetrator, f.largest_event_type) == (1.0, 1.0, 1.0)


def test_tally_leak_and_wrong_alert() -> None:
    ex = Extraction(id="a", incidents=[inc(410, "SY-HL"), inc(12, "SY-HL")])
    s = score_article("a", GOLD, ex)
    assert s.tally_leaks == [410]
    assert s.pred_max == 410 and not s.max_ok
    assert s.matched == 0  # 12 is in the wrong governorate
    f = aggregate([s])
    assert f.incident_precision == 0.0 and f.largest_admin1 == 0.0


def test_background_toll_does_not_alert() -> None:
    gold = {
        "incidents": [{"killed": 25, "admin1": ["SY-ID"], "background": True}],
        "tallies": [],
        "max_incident_killed": None,
    }
    ex = Extraction(id="b", incidents=[inc(25, "SY-ID", background=True)])
    f = aggregate([score_article("b", gold, ex)])
    assert f.max_toll_exact == 1.0 and f.alert_precision == 1.0 and f.alert_recall == 1.0
    ex = Extraction(id="b", incidents=[inc(25, "SY-ID")])
    f = aggregate([score_article("b", gold, ex)])
    assert f.alert_precision == 0.0 and f.max_toll_exact == 0.0


def test_matching_is_one_to_one() -> None:
    gold = {
        "incidents": [
            {"killed": 4, "admin1": ["SY-DY"]},
            {"killed": 4, "admin1": ["SY-DY", "SY-HL"]},
        ],
        "tallies": [],
        "max_incident_killed": 4,
    }
    ex = Extraction(id="c", incidents=[inc(4, "SY-DY")])
    s = score_article("c", gold, ex)
    assert s.matched == 1
    assert "c: 4 / 4, 1/2/1" in render(aggregate([s]))
