"""How many copies a topic gets: all brokers up to three."""

from __future__ import annotations

import pytest

from marsad.topics import replication_for


@pytest.mark.parametrize(("brokers", "copies"), [(0, 1), (1, 1), (2, 2), (3, 3), (5, 3)])
def test_three_copies_or_as_many_as_there_are_brokers(brokers: int, copies: int) -> None:
    assert replication_for(brokers) == copies
