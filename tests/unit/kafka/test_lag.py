"""Consumer-group lag arithmetic, in-process: ``partition_lag`` is what ``GroupProbe.lag``,
``marsad status`` and the drills all compute with, so its rules are pinned here once."""

from __future__ import annotations

from kafka import TopicPartition

from marsad.kafka.probes import lag_by_topic, partition_lag

A0, A1, B0 = TopicPartition("articles", 0), TopicPartition("articles", 1), TopicPartition("b", 0)


def test_committed_partitions_lag_by_end_minus_committed() -> None:
    assert partition_lag({A0: 10, A1: 7}, {A0: 0, A1: 0}, {A0: 4, A1: 7}) == {A0: 6, A1: 0}


def test_never_committed_partitions_count_from_their_beginning() -> None:
    # retention removed offsets 0-2 of A0: only what is still there is behind
    assert partition_lag({A0: 10, A1: 5}, {A0: 3, A1: 0}, {}) == {A0: 7, A1: 5}


def test_missing_beginning_counts_from_zero() -> None:
    assert partition_lag({A0: 4}, {}, {}) == {A0: 4}


def test_a_lag_is_never_negative() -> None:
    # committed past the end (a truncated or recreated topic): caught up, not -3
    assert partition_lag({A0: 2}, {A0: 0}, {A0: 5}) == {A0: 0}


def test_only_partitions_with_an_end_offset_are_reported() -> None:
    assert partition_lag({A0: 3}, {A0: 0, B0: 0}, {B0: 1}) == {A0: 3}


def test_empty_partition_has_no_lag() -> None:
    assert partition_lag({A0: 0}, {A0: 0}, {}) == {A0: 0}


def test_any_hashable_key_works() -> None:
    # e.g. (topic, partition) tuples; the arithmetic does not care what names a partition
    assert partition_lag({("t", 0): 9}, {("t", 0): 1}, {("t", 0): 5}) == {("t", 0): 4}


def test_lag_by_topic_sums_partitions_per_topic() -> None:
    assert lag_by_topic({A0: 6, A1: 1, B0: 0}) == {"articles": 7, "b": 0}
    assert lag_by_topic({}) == {}
