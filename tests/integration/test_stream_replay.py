"""`marsad replay` end to end on the real broker, with the real Arabic extractor and notifier."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from control.services import marsad_executable
from marsad.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

FIXTURE = PROJECT_ROOT / "tests" / "fixtures" / "stream" / "bukamal_attack.jsonl"


def test_replay_merges_five_reports_into_one_alert(kafka_bootstrap: str, tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MARSAD_"))}
    env.update(MARSAD_KAFKA_BOOTSTRAP=kafka_bootstrap, MARSAD_HOME=str(tmp_path / "home"))
    done = subprocess.run(
        [*marsad_executable(), "replay", str(FIXTURE), "--alerts-out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    alerts = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    deadly = [a for a in alerts if a["rule"] == "deadly-incident"]
    # Five reports, three outlets: one alert. The incident is named by its first report
    # (publication time), whatever order the replay's partitions deliver them in; when that
    # report is read after others, the alert fired under the earlier name gets its last
    # revision with merged_into the one alert that lives on.
    last_of = {a["id"]: a for a in sorted(deadly, key=lambda a: a["revision"])}
    live = [a for a in last_of.values() if not a.get("merged_into")]
    assert len(live) == 1, deadly
    assert all(a["merged_into"] == live[0]["id"] for a in last_of.values() if a is not live[0])
    revisions = sorted(a["revision"] for a in deadly if a["id"] == live[0]["id"])
    assert revisions == list(range(1, len(revisions) + 1))
    last = live[0]
    assert last["incident"]["killed"] == 64  # 41 + 23, never lowered by the 20 or 35 reports
    assert last["incident"]["location"]["admin1"] == "SY-DY"
    assert all(a["schema"] == 1 and a["summary_ar"] and a["created_at"] for a in alerts)
    assert not any("fx-tally" in (a.get("incident") or {}).get("article_ids", []) for a in alerts)
    assert "1 to articles.dlq" in done.stderr  # the line that is not JSON
