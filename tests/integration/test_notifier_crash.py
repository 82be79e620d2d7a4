"""`marsad alerts` as a real process: SIGKILL right after Slack accepted a post, bad tokens."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support import alert_samples as samples
from tests.support.kafka_helpers import wait_until
from tests.support.notifier_harness import (
    alert_id_of,
    committed,
    end_offsets,
    fresh_group,
    produce_alerts,
)
from tests.support.slack_server import DEFAULT_TOKEN, SlackServer

pytestmark = pytest.mark.integration

MARSAD = str(Path(sys.executable).with_name("marsad"))


def start_notifier(
    bootstrap: str, group: str, home: Path, slack: SlackServer, token: str, *extra: str
) -> subprocess.Popen[bytes]:
    routing_file = home / "routing.yaml"
    routing_file.write_text('default_channel: "#marsad-alerts"\n', encoding="utf-8")
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": token,
        "SLACK_API_URL": slack.api_url,
        "SLACK_WEBHOOK_URL": "",
        "MARSAD_HOME": str(home),
        "MARSAD_KAFKA_BOOTSTRAP": bootstrap,
    }
    log = (home / "notifier.log").open("ab")
    return subprocess.Popen(
        [MARSAD, "alerts", "--group", group, "--routing", str(routing_file), *extra],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


#: What kafka-python prints when its sockets are closed under its IO thread (issue #12, 8).
SHUTDOWN_NOISE = ("Traceback", "Unhandled exception", "Invalid file descriptor", "not registered")


def assert_clean_stop(log: str) -> None:
    """One stop line (the signal's), one closing summary, and no traceback or client noise."""
    noise = [line for line in log.splitlines() if any(n in line for n in SHUTDOWN_NOISE)]
    assert not noise, "\n".join(noise)
    assert len([ln for ln in log.splitlines() if "SIGTERM:" in ln]) == 1, log
    assert log.count("notifier stopped:") == 1, log


def ledger_states(home: Path) -> dict[str, str]:
    db = sqlite3.connect(home / "alerts-ledger.sqlite")
    try:
        return {
            f"{a}@{r}": s
            for a, r, s in db.execute("SELECT alert_id, revision, state FROM deliveries")
        }
    finally:
        db.close()


@pytest.mark.parametrize("moment", ["before_answer", "after_answer"])
def test_sigkill_after_slack_accepted_a_post_gives_no_duplicate(
    kafka_bootstrap: str, tmp_path: Path, moment: str
) -> None:
    prefix = f"kill-{moment[:5]}-{uuid.uuid4().hex[:6]}-"
    alerts = [samples.alert(f"{prefix}{i}", severity="warning") for i in range(6)]
    group = fresh_group(kafka_bootstrap)
    killed = threading.Event()
    with SlackServer() as slack:
        proc = start_notifier(kafka_bootstrap, group, tmp_path, slack, DEFAULT_TOKEN)

        def kill_on_third(n: int, message: dict[str, Any]) -> None:
            if n == 3 and not killed.is_set():
                os.kill(proc.pid, signal.SIGKILL)
                killed.set()

        slack.on_post = kill_on_third
        slack.on_post_after_answer = moment == "after_answer"
        try:
            produce_alerts(kafka_bootstrap, alerts)
            assert proc.wait(timeout=90) == -signal.SIGKILL
            assert killed.is_set()
            posted_before = [alert_id_of(m) for m in slack.messages("#marsad-alerts")]
            assert len(posted_before) == 3
            slack.on_post = None
            proc = start_notifier(
                kafka_bootstrap, group, tmp_path, slack, DEFAULT_TOKEN, "--once", "--max-idle", "4"
            )
            assert proc.wait(timeout=120) == 0, (tmp_path / "notifier.log").read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        posted = [str(alert_id_of(m)) for m in slack.messages("#marsad-alerts")]
    assert sorted(posted) == sorted(a["id"] for a in alerts)  # every alert, none twice
    assert committed(kafka_bootstrap, group) == end_offsets(kafka_bootstrap)
    states = ledger_states(tmp_path)
    assert [states[f"{a['id']}@1"] for a in alerts] == ["delivered"] * 6
    log = (tmp_path / "notifier.log").read_text(encoding="utf-8")
    if moment == "before_answer":
        # The third post was in Slack but not in the ledger: found through its metadata.
        assert slack.calls_of("conversations.history")
        assert "after an interrupted attempt: not posted again" in log


def test_invalid_token_fails_clearly_and_keeps_alerts(kafka_bootstrap: str, tmp_path: Path) -> None:
    alert = samples.alert(f"badtoken-{uuid.uuid4().hex[:6]}", severity="warning")
    group = fresh_group(kafka_bootstrap)
    before = committed(kafka_bootstrap, group)
    with SlackServer() as slack:
        produce_alerts(kafka_bootstrap, [alert])
        proc = start_notifier(
            kafka_bootstrap, group, tmp_path, slack, "xoxb-revoked", "--once", "--max-idle", "5"
        )
        assert proc.wait(timeout=60) == 1
        log = (tmp_path / "notifier.log").read_text(encoding="utf-8")
        assert "invalid_auth" in log and "SLACK_BOT_TOKEN" in log
        assert "wait on Kafka" in log
        assert slack.calls_of("chat.postMessage") == []
        assert committed(kafka_bootstrap, group) == before  # nothing consumed
        # Fix the token: the alert that waited is delivered.
        proc = start_notifier(
            kafka_bootstrap, group, tmp_path, slack, DEFAULT_TOKEN, "--once", "--max-idle", "4"
        )
        assert proc.wait(timeout=120) == 0
        wait_until(lambda: slack.messages("#marsad-alerts"), timeout=5, message="delivered")
        assert [alert_id_of(m) for m in slack.messages("#marsad-alerts")] == [alert["id"]]


def test_sigterm_finishes_current_alert_and_exits_cleanly(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    prefix = f"term-{uuid.uuid4().hex[:6]}-"
    alerts = [samples.alert(f"{prefix}{i}", severity="warning") for i in range(4)]
    group = fresh_group(kafka_bootstrap)
    with SlackServer() as slack:
        proc = start_notifier(kafka_bootstrap, group, tmp_path, slack, DEFAULT_TOKEN)
        slack.on_post = lambda n, _m: os.kill(proc.pid, signal.SIGTERM) if n == 2 else None
        try:
            produce_alerts(kafka_bootstrap, alerts)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        posted = [str(alert_id_of(m)) for m in slack.messages("#marsad-alerts")]
    log = (tmp_path / "notifier.log").read_text(encoding="utf-8")
    assert "SIGTERM: finishing the current alert" in log
    assert_clean_stop(log)
    assert len(posted) == 2  # the one in flight when the signal came was finished
    states = ledger_states(tmp_path)
    assert sorted(k.split("@")[0] for k, s in states.items() if s == "delivered") == sorted(posted)
    # Exactly the delivered alerts are committed; the rest wait for the next run.
    done = sum((v or 0) for v in committed(kafka_bootstrap, group).values())
    start = sum(end_offsets(kafka_bootstrap).values()) - len(alerts)
    assert done - start == 2


def test_sigterm_while_idle_stops_cleanly_and_leaves_the_group(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """SIGTERM while the notifier waits on an empty topic (a fetch and heartbeats in
    flight): exit 0, one stop line, no kafka-python traceback, and the group is left at
    once (not after the session timeout)."""
    from marsad.kafka.probes import GroupProbe

    group = fresh_group(kafka_bootstrap)
    alert = samples.alert(f"idle-{uuid.uuid4().hex[:6]}", severity="warning")
    with SlackServer() as slack:
        proc = start_notifier(kafka_bootstrap, group, tmp_path, slack, DEFAULT_TOKEN)
        try:
            produce_alerts(kafka_bootstrap, [alert])
            wait_until(lambda: slack.messages("#marsad-alerts"), timeout=60, message="posted")
            with GroupProbe(kafka_bootstrap) as probe:
                wait_until(lambda: probe.state(group) == "Stable", 30, "group stable")
                time.sleep(1.5)  # idle: the consumer is inside a long-poll fetch
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(timeout=30) == 0
                assert probe.state(group) in ("Empty", "Dead"), probe.state(group)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert_clean_stop((tmp_path / "notifier.log").read_text(encoding="utf-8"))


def test_console_mode_without_tokens_writes_jsonl(kafka_bootstrap: str, tmp_path: Path) -> None:
    alert = samples.alert(f"console-{uuid.uuid4().hex[:6]}", severity="warning")
    group = fresh_group(kafka_bootstrap)
    with SlackServer() as slack:
        produce_alerts(kafka_bootstrap, [alert])
        proc = start_notifier(
            kafka_bootstrap, group, tmp_path, slack, "", "--once", "--max-idle", "4"
        )
        assert proc.wait(timeout=120) == 0
        assert slack.calls == []
    lines = (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and alert["id"] in lines[0]
    log = (tmp_path / "notifier.log").read_text(encoding="utf-8")
    assert "الميادين" in log  # the console rendering went to stdout
