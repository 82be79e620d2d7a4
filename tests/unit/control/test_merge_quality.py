"""Merge quality may not fall below the figures the README reports.

The merge step is run in process (``marsad eval-merge --in-process``: the real extractor and
the agent's table logic, no broker) over the merge set; the floors are the figures last
reported, rounded down. The test split is frozen: rules are tuned on the dev files only and
this test reads the test files' figures, never their reports. Raise a floor in the commit
that raises the README's figure; a drop fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from control.eval_merge import live_incidents, read_reports, run_in_process
from control.merge_score import report_incidents, score

MERGE = Path(__file__).resolve().parents[2] / "fixtures" / "merge"
#: split -> (pairwise F1, B-cubed F1) floors
FLOORS = {
    ("test_a.jsonl", "test_b.jsonl"): (0.82, 0.88),
    ("dev.jsonl",): (0.95, 0.97),
    # dev_b and dev_c share four events (two writers chose them): each is scored alone
    ("dev_b.jsonl",): (0.93, 0.96),
    ("dev_c.jsonl",): (0.96, 0.97),
    # 0.828 -> 0.810 when two blasts were read as an explosion: a report now read joins a
    # false merge that was there before (pairwise precision, B-cubed unchanged)
    ("dev_d.jsonl",): (0.80, 0.90),
    ("dev_e.jsonl",): (0.86, 0.91),
    ("dev_f.jsonl",): (0.83, 0.88),
    ("dev_g.jsonl",): (0.78, 0.88),
    # written in session 10 (Syria and Iraq 2014-2016), first measured 0.598 and 0.708
    ("dev_h.jsonl",): (0.74, 0.86),
    ("dev_i.jsonl",): (0.93, 0.95),
    # written later in session 10 (Syria's and Iraq's 2014-2016 battles), first measured
    # 0.685 and 0.667 with the session's starting rules, 0.685 and 0.633 with its changes
    ("dev_j.jsonl",): (0.75, 0.86),
    ("dev_k.jsonl",): (0.77, 0.89),
    # written in session 12 (Syria's and Iraq's 2012-2013), first measured 0.812 and 0.672
    ("dev_l.jsonl",): (0.90, 0.92),
    ("dev_m.jsonl",): (0.79, 0.88),
    # written in session 13 (Iraq 2006-2011, Syria 2011-2012), first measured 0.763 and 0.686
    # with the session's starting rules, 0.763 and 0.667 with its changes (dev_o's Homs
    # report read again joins the next siege day's shelling); then tuned on
    ("dev_n.jsonl",): (0.76, 0.86),
    ("dev_o.jsonl",): (0.71, 0.86),
}


@pytest.mark.parametrize(
    "files",
    list(FLOORS),
    ids=[
        "test",
        "dev",
        "dev_b",
        "dev_c",
        "dev_d",
        "dev_e",
        "dev_f",
        "dev_g",
        "dev_h",
        "dev_i",
        "dev_j",
        "dev_k",
        "dev_l",
        "dev_m",
        "dev_n",
        "dev_o",
    ],
)
def test_merge_figures_hold_their_floors(files: tuple[str, ...]) -> None:
    paths = [MERGE / name for name in files]
    for path in paths:
        assert path.is_file(), f"{path} is missing"
    reports = read_reports([str(p) for p in paths])
    found = report_incidents(live_incidents(run_in_process(reports)))
    figures = score({r.id: r.event for r in reports}, found)
    pair_floor, bcubed_floor = FLOORS[files]
    assert figures.pair_f1 >= pair_floor, figures
    assert figures.bcubed_f1 >= bcubed_floor, figures
