"""One alert revision → at most one Slack post (plus, for revisions, one edit and one reply).

Why separate from the Kafka loop: this is where "never twice" is decided, and it is easiest to
test with a fake Slack and no broker.  The order of durable steps is the whole point:

1. ledger says delivered/parked → nothing to do (a redelivery after a crash);
2. ledger says pending → an earlier attempt died mid-call: ask the sink whether Slack has the
   message (message metadata); if yes, record it and stop;
3. write ``pending``, call Slack, write ``delivered`` — and only then may the caller commit.

Every question to the ledger is asked *per destination* (:meth:`alerts.delivery.Sink.destination`):
what the console printed, or another webhook posted, does not count as delivered here. A
revision's destination is where its alert already lives in this sink's scope (the root message
it edits), else where routing sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from alerts import blocks, changes, compact
from alerts.delivery import LookupUnsupported, PermanentDeliveryError, Posted, Sink
from alerts.ledger import Destination, Entry, Ledger
from alerts.routing import RoutingConfig
from marsad.records import Alert

log = logging.getLogger(__name__)

#: chat.update errors meaning "the original is gone": post a fresh message instead.
GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})

#: How far before a pending attempt to look back in channel history (clock skew margin).
LOOKBACK_S = 300.0


class Outcome(StrEnum):
    POSTED = "posted"
    UPDATED = "updated"
    DUPLICATE = "duplicate"  # already delivered or parked: skipped
    RECOVERED = "recovered"  # found in Slack after a crash: recorded, not re-posted
    STALE = "stale"  # an older revision than one already shown


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    channel: str | None = None
    ts: str | None = None


class Dispatcher:
    def __init__(
        self, ledger: Ledger, sink: Sink, routing: RoutingConfig, *, public_url: str = ""
    ) -> None:
        self.ledger = ledger
        self.sink = sink
        self.routing = routing
        #: the web desk's external base URL: incident alerts link to their page there
        self.public_url = public_url
        #: the destination of the delivery in progress (set by :meth:`deliver`)
        self._destination: Destination | None = None
        #: the desk's part of each message (status and buttons), where Socket Mode runs
        self.desk: Callable[[Alert], blocks.Desk | None] | None = None

    def render(self, alert: Alert) -> blocks.SlackMessage:
        """The message of an alert revision: one place, so every post and edit carries the
        desk's status and buttons (a revision's edit keeps who acknowledged it). A route
        with ``style: compact`` (the review channel) gets :mod:`alerts.compact`'s layout."""
        desk = self.desk(alert) if self.desk is not None else None
        if self.routing.style_for(alert) == "compact":
            return compact.render(alert, desk, self.public_url)
        return blocks.render(alert, desk, self.public_url)

    def deliver(self, alert: Alert) -> Result:
        """Deliver one alert revision exactly once as far as the ledger and Slack can tell.

        Raises the sink's Transient/PermanentDeliveryError; the ledger then still says
        ``pending``, which is what makes the next attempt check Slack first.
        """
        routed = self.sink.destination(self.routing.channel_for(alert))
        self.ledger.claim(self.sink.name, self.sink.destination)  # rows of an older ledger
        root = self.ledger.latest_delivered(alert.id, routed.scope)
        threaded = root is not None and bool(root.ts and root.channel) and self.sink.can_update
        self._destination = root.where if threaded and root is not None else routed
        entry = self.ledger.get(alert.id, alert.revision, self._destination)
        if entry is not None and entry.state in ("delivered", "parked"):
            log.info("alert %s r%d already %s: skipped", alert.id, alert.revision, entry.state)
            return Result(Outcome.DUPLICATE, entry.channel, entry.ts)
        if root is not None and root.revision > alert.revision:
            log.info(
                "alert %s r%d is older than delivered r%d: skipped",
                alert.id,
                alert.revision,
                root.revision,
            )
            return Result(Outcome.STALE, root.channel, root.ts)
        if entry is not None and entry.state == "pending":
            recovered = self._recover(alert, entry)
            if recovered is not None:
                return recovered
        if threaded and root is not None:
            return self._revise(alert, root)
        return self._post(alert, root)

    def _target(self) -> Destination:
        assert self._destination is not None, "ledger writes happen inside deliver()"
        return self._destination

    def _pending(self, alert: Alert, channel: str, ts: str | None = None) -> None:
        self.ledger.mark_pending(
            alert.id, alert.revision, self.sink.name, channel, ts, destination=self._target()
        )

    def _post(self, alert: Alert, previous: Entry | None) -> Result:
        channel = self.routing.channel_for(alert)
        message = self.render(alert)
        self._pending(alert, channel)
        posted = self.sink.post(channel, message)
        if previous is not None and not self.sink.can_update:
            # Webhook/console: no edits, so the change note follows the new message.
            note = changes.summary(alert, previous.facts)
            self.sink.post(channel, blocks.render_update_reply(alert, note))
        self._delivered(alert, posted.channel, posted.ts)
        log.info("alert %s r%d posted to %s ts=%s", alert.id, alert.revision, channel, posted.ts)
        return Result(Outcome.POSTED, posted.channel, posted.ts)

    def _revise(self, alert: Alert, root: Entry) -> Result:
        assert root.channel is not None and root.ts is not None
        self._pending(alert, root.channel, root.ts)
        # chat.update is idempotent: repeating it after a crash does no harm.
        try:
            self.sink.update(root.channel, root.ts, self.render(alert))
        except PermanentDeliveryError as exc:
            if exc.code not in GONE:
                raise
            log.warning(
                "alert %s r%d: original message %s/%s cannot be edited (%s); posting anew",
                alert.id,
                alert.revision,
                root.channel,
                root.ts,
                exc.code,
            )
            return self._post(alert, None)
        note = changes.summary(alert, root.facts)
        # A twin merged into another alert: the edit says so; no thread reply pings anyone.
        reply = None
        if not alert.merged_into:
            reply = self.sink.post(
                root.channel, blocks.render_update_reply(alert, note), thread_ts=root.ts
            )
        self._delivered(alert, root.channel, root.ts, reply)
        log.info(
            "alert %s r%d updated %s ts=%s (%s)",
            alert.id,
            alert.revision,
            root.channel,
            root.ts,
            note,
        )
        return Result(Outcome.UPDATED, root.channel, root.ts)

    def _recover(self, alert: Alert, entry: Entry) -> Result | None:
        """A pending row: did the interrupted attempt reach Slack?  If so, record it."""
        if not entry.channel:
            return None
        is_revision = bool(entry.ts)
        try:
            found = self.sink.find(
                entry.channel,
                alert.id,
                alert.revision,
                part="reply" if is_revision else "message",
                since=entry.started_at - LOOKBACK_S,
                thread_ts=entry.ts if is_revision else None,
            )
        except PermanentDeliveryError as exc:
            log.warning(
                "alert %s r%d: cannot check whether an interrupted attempt arrived (%s); "
                "posting again rather than risk losing it",
                alert.id,
                alert.revision,
                exc,
            )
            return None
        except LookupUnsupported:
            log.warning(
                "alert %s r%d: an earlier attempt was interrupted and %s cannot check whether it "
                "arrived; posting again (at-least-once in this window)",
                alert.id,
                alert.revision,
                self.sink.name,
            )
            return None
        if found is None:
            log.info(
                "alert %s r%d: interrupted attempt never reached Slack", alert.id, alert.revision
            )
            return None
        if is_revision:
            assert entry.ts is not None
            # The reply is there, so the update was made before it.
            channel, ts = entry.channel, entry.ts
            self._delivered(alert, channel, ts, found)
        else:
            channel, ts = found.channel, found.ts
            self._delivered(alert, channel, ts)
        log.warning(
            "alert %s r%d: found in %s (ts=%s) after an interrupted attempt: not posted again",
            alert.id,
            alert.revision,
            channel,
            ts,
        )
        return Result(Outcome.RECOVERED, channel, ts)

    def _delivered(self, alert: Alert, channel: str, ts: str, reply: Posted | None = None) -> None:
        self.ledger.mark_delivered(
            alert.id,
            alert.revision,
            sink=self.sink.name,
            channel=channel,
            ts=ts or None,
            reply_ts=reply.ts if reply else None,
            facts=changes.facts(alert),
            destination=self._target(),
        )
