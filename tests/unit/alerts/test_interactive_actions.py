"""The action store: acknowledgements, mutes (and what they silence), muted counts,
corrections; all survive a reopen."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts.interactive.actions import ActionStore, Correction
from marsad.records import Alert
from tests.support import alert_samples

T0 = datetime(2024, 3, 15, 6, 0, tzinfo=UTC)


def _alert(**overrides: Any) -> Alert:
    return Alert.model_validate(alert_samples.alert(**overrides))


def test_first_acknowledgement_stands_and_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "home" / "alerts-actions.sqlite"
    with ActionStore(path) as store:
        assert store.acknowledgement("a1") is None
        first = store.acknowledge("a1", "U1", T0)
        again = store.acknowledge("a1", "U2", T0 + timedelta(minutes=5))
        assert first == again and again.user == "U1" and again.at == T0
    with ActionStore(path) as store:
        ack = store.acknowledgement("a1")
        assert ack is not None and (ack.user, ack.at) == ("U1", T0)
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_mute_silences_by_governorate_or_actor_until_lifted_or_expired(tmp_path: Path) -> None:
    alert = _alert()  # incident_toll, SY-DY, ISIS → SYRIAN_GOV, IRAN_BACKED
    with ActionStore(tmp_path / "a.sqlite") as store:
        assert store.muting(alert, T0) is None
        other_rule = store.mute("surge", "governorate", "SY-DY", T0 + timedelta(hours=6), "U1", T0)
        elsewhere = store.mute(
            "incident_toll", "governorate", "SY-HL", T0 + timedelta(hours=6), "U1", T0
        )
        by_target = store.mute(
            "incident_toll", "actor", "IRAN_BACKED", T0 + timedelta(hours=24), "U1", T0
        )
        assert store.muting(alert, T0 + timedelta(hours=1)) == by_target
        assert store.muting(alert, T0 + timedelta(hours=25)) is None  # expired
        assert [m.id for m in store.active_mutes(T0)] == [other_rule.id, elsewhere.id, by_target.id]
        assert store.lift(by_target.id, "U2", T0 + timedelta(hours=2))
        assert not store.lift(by_target.id, "U2", T0 + timedelta(hours=3))  # already lifted
        assert not store.lift(9999, "U2", T0)
        assert store.muting(alert, T0 + timedelta(hours=3)) is None
        lifted = store.get_mute(by_target.id)
        assert lifted is not None and lifted.lifted_by == "U2"
        assert not lifted.active(T0 + timedelta(hours=3))
        assert [m.id for m in store.active_mutes(T0 + timedelta(hours=3))] == [
            other_rule.id,
            elsewhere.id,
        ]


def test_mute_reads_a_window_alerts_group(tmp_path: Path) -> None:
    window = _alert(
        rule="daily_deaths",
        kind="window",
        incident=None,
        window={"group_by": "admin1", "group": "SY-DY", "total": 40},
    )
    with ActionStore(tmp_path / "a.sqlite") as store:
        mute = store.mute("daily_deaths", "governorate", "SY-DY", T0 + timedelta(days=7), "U", T0)
        assert store.muting(window, T0) == mute
        assert store.muting(_alert(rule="daily_deaths", incident=None, window={}), T0) is None


def test_bad_mutes_and_naive_times_are_refused(tmp_path: Path) -> None:
    with ActionStore(tmp_path / "a.sqlite") as store:
        with pytest.raises(ValueError, match="end after"):
            store.mute("r", "actor", "ISIS", T0, "U", T0)
        with pytest.raises(ValueError, match="scope"):
            store.mute("r", "place", "x", T0 + timedelta(hours=1), "U", T0)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="timezone-aware"):
            store.acknowledge("a", "U", datetime(2024, 3, 15, 6, 0))


def test_muted_count_counts_each_revision_once_in_the_window(tmp_path: Path) -> None:
    with ActionStore(tmp_path / "a.sqlite") as store:
        store.record_muted("a1", 1, T0)
        store.record_muted("a1", 1, T0 + timedelta(minutes=1))  # redelivery: not twice
        store.record_muted("a1", 2, T0 + timedelta(hours=1))
        store.record_muted("a2", 1, T0 + timedelta(days=1))
        assert store.muted_count(T0, T0 + timedelta(days=1)) == 2
        assert store.muted_count(T0, T0 + timedelta(days=2)) == 3
        assert store.muted_count(T0 + timedelta(hours=2), T0 + timedelta(hours=3)) == 0


def test_corrections_round_trip_in_order(tmp_path: Path) -> None:
    toll = Correction(
        alert_id="a1",
        incident_id="inc-1",
        article_ids=("art-1", "art-2"),
        kind="wrong_toll",
        killed=25,
        injured=None,
        duplicate_of=None,
        user="U1",
        at=T0 + timedelta(hours=1),
        note="the agency's figure",
    )
    dup = Correction("a2", "inc-2", ("art-3",), "duplicate", None, None, "a1", "U2", T0, "")
    path = tmp_path / "a.sqlite"
    with ActionStore(path) as store:
        store.add_correction(toll)
        store.add_correction(dup)
    with ActionStore(path) as store:
        assert store.corrections(T0, T0 + timedelta(days=1)) == [dup, toll]
        assert store.corrections(T0 + timedelta(minutes=1), T0 + timedelta(days=1)) == [toll]
        assert store.alert_corrections("a1") == [toll]
        with pytest.raises(ValueError, match="kind"):
            store.add_correction(
                Correction("a", None, (), "typo", None, None, None, "U", T0)  # type: ignore[arg-type]
            )


def test_remembers_each_revision_the_newest_first_and_forgets_old_alerts(tmp_path: Path) -> None:
    with ActionStore(tmp_path / "a.sqlite") as store:
        assert store.alert("alert-0001") is None
        store.remember(_alert(revision=2), T0)
        store.remember(_alert(revision=1), T0 + timedelta(minutes=1))  # late and older
        kept = store.alert("alert-0001")
        assert kept is not None and kept.revision == 2 and kept.incident is not None
        first = store.alert("alert-0001", 1)
        assert first is not None and first.revision == 1
        assert store.alert("alert-0001", 3) is None
        store.remember(_alert(alert_id="old"), T0 - timedelta(days=40))
        assert store.forget_before(T0 - timedelta(days=30)) == 1
        assert store.alert("old") is None and store.alert("alert-0001") is not None


def test_a_mute_remembers_the_message_it_was_set_from(tmp_path: Path) -> None:
    with ActionStore(tmp_path / "a.sqlite") as store:
        mute = store.mute(
            "r", "actor", "ISIS", T0 + timedelta(hours=6), "U1", T0, origin="alert-0001"
        )
        assert mute.origin == "alert-0001"
        assert store.mute("r", "actor", "ISIS", T0 + timedelta(hours=6), "U1", T0).origin is None
