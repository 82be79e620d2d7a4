"""Drill 7 (CI size): a backfill burst through `marsad replay`.

Proves: a backlog far larger than live traffic is absorbed with bounded memory — every
process's peak RSS stays under a fixed ceiling that does not depend on the burst size —
the stream's consumer lag drains to zero, and every alert revision reaches Slack exactly
once. ``bench/bench_burst.py`` runs the same with 10,000 articles and prints the figures
quoted in the README.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.drills.burst import run_burst
from tests.drills.harness import report_line

pytestmark = [pytest.mark.drill, pytest.mark.integration]

ARTICLES = int(os.environ.get("MARSAD_DRILL_BURST", "1000"))
#: Ceilings per process (MiB): generous for 1,000 articles, and the bench shows the same
#: processes stay under them at 10,000 (state is pruned by event time, never by count).
RSS_CEILING_MB = {"stream": 400.0, "alerts": 200.0, "replay": 200.0}


@pytest.mark.timeout(420)
def test_backfill_burst_drains_with_bounded_memory(kafka_bootstrap: str, tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_burst(kafka_bootstrap, tmp_path, ARTICLES, timeout=360)
    assert result.returncode == 0, result.output_tail
    assert result.peak_lag >= ARTICLES // 2, "the burst never built up a backlog"
    peak_at = max(range(len(result.lag_samples)), key=lambda i: result.lag_samples[i][1])
    assert any(lag == 0 for _, lag in result.lag_samples[peak_at:]), (
        f"the stream's lag never drained to 0: {result.lag_samples[-5:]}"
    )
    assert result.end_to_end_s is not None, "replay did not report the pipeline drained"
    for role, ceiling in RSS_CEILING_MB.items():
        peak = result.peak_rss_mb.get(role)
        assert peak is not None, f"no RSS sample of {role}: {result.peak_rss_mb}"
        assert peak < ceiling, f"{role} peaked at {peak:.0f} MiB (ceiling {ceiling:.0f})"
    assert result.alerts > 0
    # Exactly once in Slack: one top-level message per alert, one reply per later revision
    # (but a twin's last "merged into" revision, which edits its message without a ping).
    assert result.slack_messages == result.alerts, result.figures()
    expected_replies = result.alert_revisions - result.alerts - result.merged_revisions
    assert result.slack_replies == expected_replies, result.figures()
    report_line("burst", started, result.figures())
