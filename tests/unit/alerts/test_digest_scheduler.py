"""When a digest is due, and that it is posted once per channel and local day, across restarts
and a crash mid-post (fixed clocks; slack-sdk against the local Slack server)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from alerts import routing
from alerts.blocks import SlackMessage
from alerts.delivery import Posted, SlackBotSink
from alerts.digest import schedule
from alerts.digest.scheduler import DigestScheduler, make_digest
from alerts.digest.source import DigestSourceError, NoFeedback
from alerts.ledger import Ledger
from marsad.records import StoredIncident
from tests.support.digest_samples import DAMASCUS, MORNING, incident
from tests.support.kafka_helpers import wait_until
from tests.support.slack_server import DEFAULT_TOKEN, SlackServer

HOUR = timedelta(hours=1)
CONFIG = routing.DigestConfig(
    channels=[
        routing.DigestChannel(channel="#marsad-alerts"),
        routing.DigestChannel(channel="#marsad-east", time=time(7, 30), tz="UTC"),
    ]
)
DAMASCUS_ONLY = routing.DigestConfig(channels=[CONFIG.channels[0]])


class ListSource:
    """Incidents from a list; remembers what it was asked."""

    def __init__(self, incidents: Sequence[StoredIncident]) -> None:
        self.items = list(incidents)
        self.asked: list[tuple[datetime, datetime]] = []

    def incidents(self, since: datetime, until: datetime) -> list[StoredIncident]:
        self.asked.append((since, until))
        return self.items


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing catches it."""


class CrashAfterPost(SlackBotSink):
    def post(self, channel: str, message: SlackMessage, thread_ts: str | None = None) -> Posted:
        super().post(channel, message, thread_ts)
        raise Crash


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer() as server:
        yield server


def scheduler(
    slack: SlackServer,
    home: Path,
    config: routing.DigestConfig = DAMASCUS_ONLY,
    sink: SlackBotSink | None = None,
) -> DigestScheduler:
    """A scheduler as ``marsad alerts`` starts one: its own sink and ledger connection."""
    source = ListSource([incident("a", 7, MORNING - 2 * HOUR)])
    return DigestScheduler(
        config,
        sink or SlackBotSink(DEFAULT_TOKEN, slack.api_url),
        Ledger(home / "alerts-ledger.sqlite"),
        source,
        NoFeedback(),
    )


def test_due_from_the_local_time_until_the_local_day_ends() -> None:
    damascus = CONFIG.channels[0]
    assert schedule.due(damascus, MORNING - timedelta(seconds=1)) is None
    assert schedule.due(damascus, MORNING) == MORNING
    late = datetime(2026, 12, 2, 23, 59, tzinfo=DAMASCUS)
    assert schedule.due(damascus, late) == MORNING
    after_midnight = datetime(2026, 12, 3, 0, 1, tzinfo=DAMASCUS)
    assert schedule.due(damascus, after_midnight) is None  # never yesterday's, a day late
    assert schedule.next_due(damascus, after_midnight) == MORNING + timedelta(days=1)
    assert schedule.next_due(damascus, MORNING) == MORNING + timedelta(days=1)


def test_the_local_day_of_a_digest_just_after_midnight_in_damascus() -> None:
    night = routing.DigestChannel(channel="#night", time=time(0, 15))
    now = datetime(2026, 12, 1, 21, 20, tzinfo=UTC)  # 00:20 on 2 December in Damascus
    at = schedule.due(night, now)
    assert at == datetime(2026, 12, 1, 21, 15, tzinfo=UTC)
    assert schedule.key("#night", at.astimezone(night.zone).date()) == "digest:#night:2026-12-02"


def test_each_channel_in_its_own_zone(slack: SlackServer, tmp_path: Path) -> None:
    sched = scheduler(slack, tmp_path, CONFIG)
    # 05:00 UTC: 08:00 in Damascus has come, 07:30 UTC has not
    outcomes = sched.run_due(MORNING)
    assert [(o.channel, o.outcome) for o in outcomes] == [("#marsad-alerts", "posted")]
    outcomes = sched.run_due(datetime(2026, 12, 2, 7, 30, tzinfo=UTC))
    assert [(o.channel, o.outcome) for o in outcomes] == [
        ("#marsad-alerts", "duplicate"),
        ("#marsad-east", "posted"),
    ]
    (east,) = slack.messages("#marsad-east")
    assert east["metadata"]["event_payload"]["alert_id"] == "digest:#marsad-east:2026-12-02"


def test_two_instances_over_the_same_home_post_once_a_day(
    slack: SlackServer, tmp_path: Path
) -> None:
    first = scheduler(slack, tmp_path)
    assert [o.outcome for o in first.run_due(MORNING + HOUR)] == ["posted"]
    first.ledger.close()
    restarted = scheduler(slack, tmp_path)  # a restart: new sink, new ledger connection
    assert [o.outcome for o in restarted.run_due(MORNING + 5 * HOUR)] == ["duplicate"]
    assert len(slack.messages("#marsad-alerts")) == 1
    # the next morning's is a new one
    assert [o.outcome for o in restarted.run_due(MORNING + timedelta(days=1))] == ["posted"]
    keys = [m["metadata"]["event_payload"]["alert_id"] for m in slack.messages("#marsad-alerts")]
    assert keys == ["digest:#marsad-alerts:2026-12-02", "digest:#marsad-alerts:2026-12-03"]


def test_a_late_digest_covers_the_same_24_hours(slack: SlackServer, tmp_path: Path) -> None:
    sched = scheduler(slack, tmp_path)
    sched.run_due(MORNING + 6 * HOUR)  # the notifier was down at 08:00
    assert isinstance(sched.incidents, ListSource)
    ((since, until),) = sched.incidents.asked
    assert until == MORNING
    assert since == MORNING - timedelta(days=15)
    (msg,) = slack.messages("#marsad-alerts")
    assert "08:00 Wed 2 Dec 2026" in msg["blocks"][1]["text"]["text"]


def test_a_crash_after_slack_took_the_post_is_recovered_not_posted_again(
    slack: SlackServer, tmp_path: Path
) -> None:
    crashing = scheduler(slack, tmp_path, sink=CrashAfterPost(DEFAULT_TOKEN, slack.api_url))
    with pytest.raises(Crash):
        crashing.run_due(MORNING)
    assert crashing.ledger.get("digest:#marsad-alerts:2026-12-02", 1) is not None
    crashing.ledger.close()
    restarted = scheduler(slack, tmp_path)
    (outcome,) = restarted.run_due(MORNING + HOUR)
    assert outcome.outcome == "recovered"
    assert len(slack.messages("#marsad-alerts")) == 1
    assert [o.outcome for o in restarted.run_due(MORNING + 2 * HOUR)] == ["duplicate"]


def test_a_refused_channel_parks_the_days_digest(tmp_path: Path) -> None:
    with SlackServer(missing_channels=["marsad-alerts"]) as slack:
        sched = scheduler(slack, tmp_path)
        assert [o.outcome for o in sched.run_due(MORNING)] == ["parked"]
        assert [o.outcome for o in sched.run_due(MORNING + HOUR)] == ["duplicate"]
        entry = sched.ledger.get("digest:#marsad-alerts:2026-12-02", 1)
        assert entry is not None and entry.state == "parked"


def test_the_loop_posts_what_is_due_and_stops_when_asked(
    slack: SlackServer, tmp_path: Path
) -> None:
    sched = scheduler(slack, tmp_path)
    sched.clock = lambda: MORNING + HOUR  # a fixed clock: the loop never waits for a real 08:00
    stop = threading.Event()
    thread = threading.Thread(target=sched.run, args=(stop,), daemon=True)
    thread.start()
    wait_until(lambda: slack.messages("#marsad-alerts"), timeout=30, message="the digest posted")
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(slack.messages("#marsad-alerts")) == 1


def test_make_digest_asks_the_feedback_for_the_same_24_hours() -> None:
    asked: list[tuple[datetime, datetime]] = []

    class Feedback(NoFeedback):
        def muted_count(self, since: datetime, until: datetime) -> int:
            asked.append((since, until))
            return 6

    digest = make_digest(CONFIG.channels[0], MORNING, ListSource([]), Feedback())
    assert digest.muted == 6
    assert asked == [(MORNING - timedelta(hours=24), MORNING)]
    assert digest.local_date == date(2026, 12, 2)


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        ('{channel: "#a", tz: Mars/Olympus}', "is not an IANA time zone"),
        ('{channel: "#a", time: "25:00"}', "time"),
        ('{channel: "a b"}', "is not a channel"),
        ('{channel: "#a"}\n    - {channel: "#a", time: "09:00"}', "listed twice: ['#a']"),
    ],
)
def test_a_bad_digest_section_names_its_line(entry: str, needle: str) -> None:
    text = f'default_channel: "#a"\ndigest:\n  channels:\n    - {entry}\n'
    with pytest.raises(routing.RoutingError, match=r"routing.yaml:\d+") as err:
        routing.parse(text, "routing.yaml")
    assert needle in str(err.value)


def test_digest_channels_are_checked_with_the_others() -> None:
    text = 'default_channel: "#a"\ndigest:\n  channels:\n    - {channel: "#morning"}\n'
    assert routing.parse(text).channels() == ["#a", "#morning"]


def test_a_failing_source_is_retried_and_the_loop_goes_on(
    slack: SlackServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sched = scheduler(slack, tmp_path)
    sched.clock = lambda: MORNING + HOUR
    calls: list[int] = []
    good = sched.incidents

    class Flaky:
        def incidents(self, since: datetime, until: datetime) -> Sequence[StoredIncident]:
            calls.append(1)
            if len(calls) == 1:
                raise DigestSourceError("broker out of reach")
            if len(calls) == 2:
                raise RuntimeError("a bug")
            return good.incidents(since, until)

    sched.incidents = Flaky()
    stop = threading.Event()
    thread = threading.Thread(target=sched.run, args=(stop,), kwargs={"tick_s": 0.05})
    thread.start()
    try:
        wait_until(lambda: slack.messages("#marsad-alerts"), timeout=30, message="posted")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert len(calls) == 3 and len(slack.messages("#marsad-alerts")) == 1
    assert "broker out of reach" in caplog.text and "digest failed" in caplog.text
