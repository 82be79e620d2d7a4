"""Posting each channel's digest once per local day, across restarts and crashes.

Why the delivery ledger (:mod:`alerts.ledger`) and not a table of its own: "posted once,
even if the process dies mid-call" is exactly the problem it solves for alerts, with the same
three durable steps. A digest is the ledger's "alert" ``digest:<channel>:<local day>``
(:func:`alerts.digest.schedule.key`), revision 1, at the sink's destination for the channel:

1. delivered (or parked) → nothing to do: the day's digest is out (another instance, an
   earlier run, or ``marsad digest`` by hand posted it);
2. pending → an attempt died mid-call: ask the sink whether the channel has the message (its
   metadata names the key), and if so record it rather than post again;
3. build the digest, write ``pending``, post, write ``delivered``.

A transient failure (Slack or the broker out of reach) is retried on the next tick; a
permanent one (``channel_not_found``…) parks the day's digest for that channel, said once
in the log, and the next day is tried afresh.

:class:`DigestScheduler` runs as a thread beside the notifier in ``marsad alerts``
(:func:`digests_beside`): it wakes at least every :data:`TICK_S` seconds, and within a second
when asked to stop.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from alerts.delivery import (
    DeliveryError,
    LookupUnsupported,
    PermanentDeliveryError,
    Sink,
)
from alerts.digest import schedule
from alerts.digest.build import DAY, LOOKBACK, Digest, build_digest
from alerts.digest.layout import PART, digest_message
from alerts.digest.source import (
    ActionStoreFeedback,
    Coverage,
    DigestSourceError,
    FeedbackSource,
    IncidentSource,
    NoFeedback,
)
from alerts.ledger import Destination, Ledger
from alerts.routing import DigestChannel, DigestConfig

if TYPE_CHECKING:
    from alerts.dispatch import Dispatcher
    from marsad.topics import Topics

log = logging.getLogger(__name__)

#: the longest the scheduler sleeps between looks at the clock
TICK_S = 30.0
#: how far before a pending attempt to look back in the channel's history (clock skew)
LOOKBACK_S = 300.0


def make_digest(
    channel: DigestChannel,
    at: datetime,
    incidents: IncidentSource,
    feedback: FeedbackSource,
) -> Digest:
    """The digest of the 24 h before ``at`` for ``channel``'s time zone, from the sources.

    Incidents are asked for from a day before the two weeks the figures cover: an incident
    is counted at its event time, which can be a little before its first report."""
    since = at - LOOKBACK - DAY
    held = incidents.incidents(since, at)
    return build_digest(
        held,
        at,
        channel.zone,
        feedback.muted_count(at - DAY, at),
        feedback.corrections(at - DAY, at),
        held_from=incidents.held_from if isinstance(incidents, Coverage) else None,
    )


@dataclass(frozen=True)
class Outcome:
    channel: str
    key: str
    #: posted, duplicate (already out), recovered (found after a crash), parked, retry
    outcome: str
    ts: str | None = None


class DigestScheduler:
    """Posts due digests through a sink, each once per (channel destination, local day)."""

    def __init__(
        self,
        config: DigestConfig,
        sink: Sink,
        ledger: Ledger,
        incidents: IncidentSource,
        feedback: FeedbackSource | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.sink = sink
        self.ledger = ledger
        self.incidents = incidents
        self.feedback = feedback or NoFeedback()
        self.clock = clock

    def run_due(self, now: datetime | None = None) -> list[Outcome]:
        """Post every digest due at ``now`` (default: the clock) that is not out yet."""
        now = now or self.clock()
        out = []
        for channel in self.config.channels:
            at = schedule.due(channel, now)
            if at is not None:
                out.append(self.post(channel, at))
        return out

    def post(self, channel: DigestChannel, at: datetime) -> Outcome:
        """The digest of the day of ``at`` (its period ending at ``at``) to ``channel``, once.

        Raises :class:`~alerts.delivery.TransientDeliveryError` and
        :class:`~alerts.digest.source.DigestSourceError` (try again later); a permanent
        refusal parks the day's digest and returns ``parked``."""
        name = channel.channel
        key = schedule.key(name, at.astimezone(channel.zone).date())
        where = self.sink.destination(name)
        entry = self.ledger.get(key, 1, where)
        if entry is not None and entry.state in ("delivered", "parked"):
            return Outcome(name, key, "duplicate", entry.ts)
        if entry is not None and entry.state == "pending":
            found = self._find(name, key, entry.started_at - LOOKBACK_S)
            if found is not None:
                self._delivered(key, name, found, where)
                log.warning("digest %s: found in %s after an interrupted attempt", key, name)
                return Outcome(name, key, "recovered", found or None)
        message = digest_message(make_digest(channel, at, self.incidents, self.feedback), key)
        self.ledger.mark_pending(key, 1, self.sink.name, name, destination=where)
        try:
            posted = self.sink.post(name, message)
        except PermanentDeliveryError as exc:
            self.ledger.mark_parked(key, 1, self.sink.name, str(exc), destination=where)
            log.error("digest %s NOT posted: %s (tried again tomorrow)", key, exc)
            return Outcome(name, key, "parked")
        self._delivered(key, posted.channel, posted.ts, where)
        log.info("digest %s posted to %s ts=%s", key, name, posted.ts)
        return Outcome(name, key, "posted", posted.ts or None)

    def _find(self, channel: str, key: str, since: float) -> str | None:
        """The ``ts`` of an earlier attempt's message in the channel, if it arrived."""
        try:
            found = self.sink.find(channel, key, 1, part=PART, since=since)
        except (LookupUnsupported, PermanentDeliveryError) as exc:
            log.warning("digest %s: cannot check an interrupted attempt (%s): posting", key, exc)
            return None
        return found.ts if found is not None else None

    def _delivered(self, key: str, channel: str, ts: str, where: Destination) -> None:
        self.ledger.mark_delivered(
            key, 1, sink=self.sink.name, channel=channel, ts=ts or None, destination=where
        )

    def seconds_to_next(self, now: datetime) -> float:
        if not self.config.channels:
            return TICK_S
        nearest = min(schedule.next_due(c, now) for c in self.config.channels)
        return max(0.0, (nearest - now).total_seconds())

    def run(
        self, stop: threading.Event, tick_s: float = TICK_S, also: threading.Event | None = None
    ) -> None:
        """Until ``stop`` (or ``also``) is set: post what is due, then sleep until the next
        digest or a tick; after a failure, back off up to 10 minutes."""

        def stopped() -> bool:
            return stop.is_set() or (also is not None and also.is_set())

        def sleep(seconds: float) -> None:
            end = time.monotonic() + seconds
            while not stopped() and (left := end - time.monotonic()) > 0:
                stop.wait(left if also is None else min(left, 1.0))

        pause = tick_s
        while not stopped():
            now = self.clock()
            try:
                self.run_due(now)
            except (DigestSourceError, DeliveryError) as exc:
                pause = min(600.0, max(tick_s, pause * 2))
                log.warning("digest not posted yet (%s): trying again in %.0f s", exc, pause)
                sleep(pause)
                continue
            except Exception:  # a fault of ours must not end the digests, nor the notifier
                pause = min(600.0, max(tick_s, pause * 2))
                log.exception("digest failed: trying again in %.0f s", pause)
                sleep(pause)
                continue
            pause = tick_s
            sleep(min(tick_s, self.seconds_to_next(now) + 0.5))
        log.info("digest scheduler stopped")


@contextlib.contextmanager
def digests_beside(
    dispatcher: Dispatcher,
    bootstrap: str,
    stop: threading.Event,
    *,
    topics: Topics,
    incidents: IncidentSource | None = None,
) -> Iterator[DigestScheduler | None]:
    """Run the digest scheduler in a thread for the duration of the block (the notifier's
    loop), when the routing file names digest channels; stopped and joined on the way out,
    whether ``stop`` was set or the loop ended on its own (``--once``).

    ``incidents`` defaults to the namespace's incidents topic; the top floor may pass a
    store-backed source instead."""
    from alerts.digest.source import KafkaIncidentSource

    config = dispatcher.routing.digest
    if not config.channels:
        yield None
        return
    ledger = Ledger(dispatcher.ledger.path)  # its own connection: another thread writes
    scheduler = DigestScheduler(
        config,
        dispatcher.sink,
        ledger,
        incidents or KafkaIncidentSource(bootstrap, topics.incidents),
        ActionStoreFeedback(ledger.path.parent),
    )
    halt = threading.Event()
    thread = threading.Thread(
        target=scheduler.run, args=(halt,), kwargs={"also": stop}, name="digest", daemon=True
    )
    names = ", ".join(f"{c.channel} at {c.time:%H:%M} {c.tz}" for c in config.channels)
    log.info("daily digest: %s", names)
    thread.start()
    try:
        yield scheduler
    finally:
        halt.set()
        thread.join(timeout=60)
        ledger.close()
