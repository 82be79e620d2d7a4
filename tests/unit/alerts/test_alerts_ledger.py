"""The ledger: states survive a reopen; the root message of an alert is its newest delivery."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alerts.ledger import Ledger


def test_states_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "home" / "alerts-ledger.sqlite"
    with Ledger(path) as ledger:
        ledger.mark_pending("a1", 1, "slack", "#x")
        assert ledger.get("a1", 1).state == "pending"  # type: ignore[union-attr]
        ledger.mark_delivered("a1", 1, sink="slack", channel="C1", ts="1.0", facts={"killed": 3})
        ledger.mark_parked("a2", 1, "slack", "channel_not_found")
    with Ledger(path) as ledger:  # a new process sees the same facts
        one = ledger.get("a1", 1)
        assert one is not None and (one.state, one.channel, one.ts) == ("delivered", "C1", "1.0")
        assert one.facts == {"killed": 3}
        parked = ledger.get("a2", 1)
        assert parked is not None and parked.error == "channel_not_found"
        assert ledger.get("a1", 2) is None
        assert ledger.counts() == {"delivered": 1, "parked": 1}


def test_latest_delivered_ignores_pending(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.mark_delivered("a", 1, sink="slack", channel="C1", ts="1.0")
        ledger.mark_delivered("a", 2, sink="slack", channel="C1", ts="1.0", reply_ts="2.0")
        ledger.mark_pending("a", 3, "slack", "C1", "1.0")
        latest = ledger.latest_delivered("a")
        assert latest is not None and latest.revision == 2 and latest.reply_ts == "2.0"


def test_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    Ledger(path).close()
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
