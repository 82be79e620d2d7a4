"""When a consuming loop with ``max_idle_s`` stops (marsad.kafka.clients.IdleWatch)."""

from __future__ import annotations

from marsad.kafka.clients import IdleWatch


def test_without_max_idle_it_never_stops() -> None:
    watch = IdleWatch(None, started=0.0, idle_since=0.0)
    assert not watch.done(assigned=True)
    assert not watch.done(assigned=False)


def test_idle_counts_only_while_partitions_are_assigned() -> None:
    watch = IdleWatch(5.0, assignment_wait_s=1e9, started=0.0, idle_since=0.0)
    assert watch.done(assigned=True)  # assigned and idle since t=0: long past 5 s
    watch = IdleWatch(5.0, assignment_wait_s=1e9, started=0.0, idle_since=0.0)
    assert not watch.done(assigned=False)  # unassigned: the idle clock restarts now
    assert not watch.done(assigned=True)  # ... so 5 s have not passed yet


def test_no_assignment_for_too_long_stops() -> None:
    watch = IdleWatch(5.0, assignment_wait_s=10.0, started=0.0, idle_since=0.0)
    assert watch.done(assigned=False)


def test_records_reset_the_idle_clock() -> None:
    watch = IdleWatch(5.0, started=0.0, idle_since=0.0)
    watch.busy()
    assert not watch.done(assigned=True)
