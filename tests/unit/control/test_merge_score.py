"""The merge scorer: pairwise and B-cubed figures on small hand-made clusterings."""

from __future__ import annotations

import pytest

from control.merge_score import report_incidents, score

GOLD = {"a": "E1", "b": "E1", "c": "E1", "d": "E2", "e": "E3"}


def test_a_perfect_clustering_scores_one() -> None:
    s = score(GOLD, {"a": "i1", "b": "i1", "c": "i1", "d": "i2", "e": "i3"})
    assert (s.pair_f1, s.bcubed_f1) == (1.0, 1.0)
    assert s.false_merges == () and s.missed_merges == ()


def test_a_false_merge_costs_precision_only() -> None:
    s = score(GOLD, {"a": "i1", "b": "i1", "c": "i1", "d": "i1", "e": "i3"})
    assert s.pair_recall == 1.0
    assert s.pair_precision == pytest.approx(3 / 6)  # 6 predicted pairs, 3 true
    assert s.bcubed_precision == pytest.approx((3 * 3 / 4 + 1 / 4 + 1) / 5)
    assert ("a", "d") in s.false_merges


def test_a_split_event_costs_recall_and_a_missing_report_stands_alone() -> None:
    s = score(GOLD, {"a": "i1", "b": "i1", "d": "i2", "e": "i3"})  # c read as no incident
    assert s.pair_precision == 1.0
    assert s.pair_recall == pytest.approx(1 / 3)
    assert set(s.missed_merges) == {("a", "c"), ("b", "c")}
    assert s.incidents == 4


def test_each_report_counts_in_its_largest_incident_at_its_last_revision() -> None:
    incidents = [
        {"id": "i1", "revision": 1, "killed": 5, "article_ids": ["a"]},
        {"id": "i1", "revision": 2, "killed": 9, "article_ids": ["a", "b"]},
        {"id": "i2", "revision": 1, "killed": 2, "article_ids": ["b"]},  # b's side mention
    ]
    assert report_incidents(incidents) == {"a": "i1", "b": "i1"}


def test_a_report_counts_in_the_incident_of_its_lead_not_of_a_larger_side_mention() -> None:
    # b leads with a 2-dead attack (i2) and then recalls a's 9-dead attack (i1)
    incidents = [
        {"id": "i1", "killed": 9, "article_ids": ["a", "b"], "article_positions": ["a#0", "b#1"]},
        {"id": "i2", "killed": 2, "article_ids": ["b"], "article_positions": ["b#0"]},
    ]
    assert report_incidents(incidents) == {"a": "i1", "b": "i2"}
