"""An alert is delivered once *per destination*: the ledger is keyed by where a message lands.

What the console printed does not count as delivered to Slack; a second bot run is still a
redelivery; two webhooks are two destinations; and an older ledger file (keyed by alert id and
revision alone) keeps its meaning for the kind of sink that wrote it.
"""

from __future__ import annotations

import io
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alerts import routing
from alerts.delivery import ConsoleSink, SlackBotSink, WebhookSink
from alerts.dispatch import Dispatcher, Outcome
from alerts.ledger import SCHEMA_VERSION, Destination, Ledger
from marsad.records import Alert
from tests.support import alert_samples as samples
from tests.support.slack_server import DEFAULT_TOKEN, SlackServer

ROUTES = routing.parse('default_channel: "#marsad-alerts"\n')


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer() as server:
        yield server


def alert(**kw: Any) -> Alert:
    return Alert.from_json(samples.alert(**kw))


def run(path: Path, sink: Any, *alerts: Alert) -> list[Outcome]:
    """One notifier run: a fresh process's ledger and dispatcher, these alerts, closed."""
    with Ledger(path) as ledger:
        d = Dispatcher(ledger, sink, ROUTES)
        return [d.deliver(a).outcome for a in alerts]


def bot(slack: SlackServer) -> SlackBotSink:
    return SlackBotSink(DEFAULT_TOKEN, slack.api_url)


def console(tmp_path: Path) -> ConsoleSink:
    return ConsoleSink(tmp_path / "alerts.jsonl", io.StringIO())


def test_console_run_then_bot_run_delivers_to_slack_once(
    tmp_path: Path, slack: SlackServer
) -> None:
    path = tmp_path / "alerts-ledger.sqlite"
    assert run(path, console(tmp_path), alert()) == [Outcome.POSTED]
    # SLACK_BOT_TOKEN is set afterwards: the alert was only printed, so it goes to Slack...
    assert run(path, bot(slack), alert()) == [Outcome.POSTED]
    assert len(slack.messages("#marsad-alerts")) == 1
    # ...once: the next bot run, and the console again, each skip what they already have.
    assert run(path, bot(slack), alert()) == [Outcome.DUPLICATE]
    assert run(path, console(tmp_path), alert()) == [Outcome.DUPLICATE]
    assert len(slack.messages("#marsad-alerts")) == 1
    assert len((tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()) == 1


def test_console_revision_does_not_make_slack_stale(tmp_path: Path, slack: SlackServer) -> None:
    path = tmp_path / "alerts-ledger.sqlite"
    run(path, console(tmp_path), alert(), alert(revision=2))
    # Slack never saw r1 or r2: r1 is not "older than delivered r2" there.
    assert run(path, bot(slack), alert(), alert(revision=2)) == [Outcome.POSTED, Outcome.UPDATED]
    assert len(slack.messages("#marsad-alerts")) == 1


def test_bot_run_twice_delivers_once(tmp_path: Path, slack: SlackServer) -> None:
    path = tmp_path / "alerts-ledger.sqlite"
    assert run(path, bot(slack), alert()) == [Outcome.POSTED]
    # A restart (new process, new sink, same ledger file): a redelivery is skipped, and the
    # next revision edits the message the first run posted.
    assert run(path, bot(slack), alert(), alert(revision=2)) == [
        Outcome.DUPLICATE,
        Outcome.UPDATED,
    ]
    assert run(path, bot(slack), alert(revision=2), alert()) == [
        Outcome.DUPLICATE,
        Outcome.DUPLICATE,
    ]
    assert len(slack.messages("#marsad-alerts")) == 1
    assert len(slack.calls_of("chat.postMessage")) == 2  # the post and r2's thread reply


def test_two_webhooks_are_two_destinations(tmp_path: Path, slack: SlackServer) -> None:
    path = tmp_path / "alerts-ledger.sqlite"
    first = slack.webhook_url
    second = first.replace("/B000/", "/B111/")
    assert run(path, WebhookSink(first), alert()) == [Outcome.POSTED]
    assert run(path, WebhookSink(second), alert()) == [Outcome.POSTED]
    assert run(path, WebhookSink(first), alert()) == [Outcome.DUPLICATE]
    assert run(path, WebhookSink(second), alert()) == [Outcome.DUPLICATE]
    assert len(slack.webhook_posts) == 2
    # The webhook URL is a secret: the ledger names it by a hash only.
    assert WebhookSink(first).destination("#x") != WebhookSink(second).destination("#x")
    assert WebhookSink(first).destination("#x") == WebhookSink(first).destination("#y")
    raw = path.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("*.sqlite-*"))
    assert b"/services/" not in raw and b"B111" not in raw


def test_destination_ids(tmp_path: Path, slack: SlackServer) -> None:
    assert bot(slack).destination("#marsad-alerts") == Destination("slack:T000", "#marsad-alerts")
    assert Destination("slack:T000", "#a").id == "slack:T000/#a"
    where = console(tmp_path).destination("#a")
    assert where == Destination(f"console:{(tmp_path / 'alerts.jsonl').resolve()}")
    assert where.id == where.scope


# ----------------------------------------------------------------------------- migration

_V1 = """
CREATE TABLE deliveries (
    alert_id TEXT NOT NULL, revision INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'parked')),
    sink TEXT NOT NULL, channel TEXT, ts TEXT, reply_ts TEXT, facts TEXT, error TEXT,
    started_at REAL NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (alert_id, revision)
)
"""


def _old_ledger(path: Path, rows: list[tuple[str, int, str, str, str | None, str | None]]) -> None:
    """A ledger file as the notifier wrote it before it was keyed by destination."""
    db = sqlite3.connect(path)
    try:
        db.execute(_V1)
        now = time.time() - 3600
        for alert_id, revision, state, sink, channel, ts in rows:
            db.execute(
                "INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?)",
                (alert_id, revision, state, sink, channel, ts, now, now),
            )
        db.commit()
    finally:
        db.close()


def test_an_older_ledger_keeps_its_meaning_per_sink(tmp_path: Path, slack: SlackServer) -> None:
    path = tmp_path / "alerts-ledger.sqlite"
    # Before the upgrade: alert-printed went to the console only; alert-posted reached Slack.
    posted = bot(slack).post("#marsad-alerts", samples_message("alert-posted"))
    _old_ledger(
        path,
        [
            ("alert-printed", 1, "delivered", "console", "#marsad-alerts", None),
            ("alert-posted", 1, "delivered", "slack", posted.channel, posted.ts),
        ],
    )
    with Ledger(path) as ledger:  # migrated on open, every row kept
        assert ledger.counts() == {"delivered": 2}
        entry = ledger.get("alert-posted", 1)
        assert entry is not None and (entry.channel, entry.ts) == (posted.channel, posted.ts)
    version = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]
    assert version == SCHEMA_VERSION

    printed, known = alert(alert_id="alert-printed"), alert(alert_id="alert-posted")
    outcomes = run(path, bot(slack), printed, known, alert(alert_id="alert-posted", revision=2))
    # Printed is not posted: it goes to Slack now. Posted is skipped, and its revision edits
    # the message the old ledger remembered.
    assert outcomes == [Outcome.POSTED, Outcome.DUPLICATE, Outcome.UPDATED]
    assert len(slack.messages("#marsad-alerts")) == 2
    edited = next(m for m in slack.messages("#marsad-alerts") if m["ts"] == posted.ts)
    assert "r2]" in edited["text"]
    # The console claims its own old row: nothing is printed twice.
    assert run(path, console(tmp_path), printed) == [Outcome.DUPLICATE]
    assert not (tmp_path / "alerts.jsonl").exists()
    with Ledger(path) as ledger:  # and nothing is left unclaimed
        scopes = {row[0] for row in ledger._db.execute("SELECT scope FROM deliveries")}
    assert scopes == {"slack:T000", f"console:{(tmp_path / 'alerts.jsonl').resolve()}"}


def test_reopening_a_migrated_ledger_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "alerts-ledger.sqlite"
    _old_ledger(path, [("a", 1, "parked", "webhook", None, None)])
    Ledger(path).close()
    with Ledger(path) as ledger:
        parked = ledger.get("a", 1)
        assert parked is not None and parked.state == "parked"
        assert parked.scope == "unclaimed:webhook"  # until a webhook delivers
        claimed = ledger.claim("webhook", lambda channel: Destination("webhook:abc"))
        assert claimed == 1 and ledger.get("a", 1, Destination("webhook:abc")) is not None


def samples_message(alert_id: str) -> Any:
    from alerts import blocks

    return blocks.render(alert(alert_id=alert_id))
