"""``marsad status`` without a broker: rendering, and the error when none is reachable."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from control.status import (
    EXIT_NO_BROKER,
    GroupLag,
    PartitionLag,
    StatusReport,
    render_text,
    status_cmd,
)
from tests.support.kafka_helpers import free_port


def _report() -> StatusReport:
    return StatusReport(
        bootstrap="127.0.0.1:9092",
        reachable=True,
        source="MARSAD_KAFKA_BOOTSTRAP",
        groups=[
            GroupLag(
                "marsad-stream",
                [PartitionLag("articles", 0, 5, 9, 4), PartitionLag("articles", 1, None, 3, 3)],
                service="stream",
                state="Stable",
                members=2,
            ),
            GroupLag("marsad-alerts", [], service="alerts", state="Empty", members=0),
        ],
        last_message_ms={"articles": 1_700_000_000_000, "alerts": None},
        dlq_counts={"articles.dlq": 2, "alerts.dlq": None},
    )


def test_render_text_shows_every_number() -> None:
    text = render_text(_report(), now_ms=1_700_000_000_000 + 3 * 3600 * 1000)
    assert "stream [marsad-stream]: running (2 member(s), Stable), total lag 7" in text
    assert "alerts [marsad-alerts]: NOT RUNNING, total lag 0" in text
    assert "articles[0]  committed 5, end 9, lag 4" in text
    assert "articles[1]  never committed, end 3, lag 3" in text
    assert "articles: 2023-11-14T22:13:20+00:00 (3 h ago)" in text
    assert "alerts: (empty)" in text
    assert "articles.dlq: 2" in text and "alerts.dlq: (missing)" in text


def test_as_dict_adds_totals_and_iso_times() -> None:
    data = _report().as_dict()
    assert data["groups"][0]["total_lag"] == 7
    assert data["last_message"] == {"articles": "2023-11-14T22:13:20+00:00", "alerts": None}


def test_unreachable_configured_broker_exits_2() -> None:
    port = free_port()
    result = CliRunner().invoke(
        status_cmd, ["--timeout", "1"], env={"MARSAD_KAFKA_BOOTSTRAP": f"127.0.0.1:{port}"}
    )
    assert result.exit_code == EXIT_NO_BROKER
    assert "UNREACHABLE" in result.output


def test_no_local_broker_exits_2_with_hint(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        status_cmd, [], env={"MARSAD_KAFKA_BOOTSTRAP": "", "MARSAD_HOME": str(tmp_path)}
    )
    assert result.exit_code == EXIT_NO_BROKER
    assert "marsad kafka start" in result.output


def test_a_running_group_whose_commit_does_not_move_is_stalled() -> None:
    from control.status import stalled_partitions

    first = {("articles", 0): 5, ("articles", 1): 3, ("articles", 2): 7}
    second = {("articles", 0): 5, ("articles", 1): 4, ("articles", 2): 7}
    lags = {("articles", 0): 4, ("articles", 1): 2, ("articles", 2): 0, ("articles", 3): 6}
    # moved (1), no lag (2): fine; stuck with lag (0) and never committed with lag (3): stalled
    assert stalled_partitions(first, second, lags) == ["articles[0]", "articles[3]"]

    group = GroupLag(
        "marsad-stream",
        [PartitionLag("articles", 0, 5, 9, 4)],
        service="stream",
        state="Stable",
        members=1,
        stalled=["articles[0]"],
        probe_s=3.0,
    )
    report = StatusReport("127.0.0.1:9092", True, "", [group])
    text = render_text(report, now_ms=0)
    assert "stream [marsad-stream]: STALLED (1 member(s), Stable; no commit in 3 s on 1" in text
    assert "articles[0]" in text
    assert report.as_dict()["groups"][0]["stalled"] == ["articles[0]"]
    # Not running wins over stalled: nobody is there to stall.
    gone = GroupLag("g", [], members=0, stalled=["articles[0]"], probe_s=3.0)
    assert gone.health == "NOT RUNNING"
