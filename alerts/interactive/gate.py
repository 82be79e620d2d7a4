"""The notifier's side of the desk: remember each alert (a click names only its id), hold back
a muted one, and give every message its status line and buttons.

Why muted alerts are not posted at all (rather than posted without a notification): Slack has
no "post silently" for a channel message — every top-level post can notify, and an edit of an
earlier message shows stale figures as current. So a muted revision is recorded
(:meth:`ActionStore.record_muted`: the digest counts it) and committed, and it does not reach
the channel; the alert is still remembered, and the incident is still in the incidents topic
and the store. The next revision after the mute ends is delivered as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from alerts.blocks import Desk
from alerts.interactive import status
from alerts.interactive.actions import ActionStore
from marsad.records import Alert

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class DeskGate:
    """:class:`alerts.notifier.Gate` and the dispatcher's ``desk`` hook, over one store."""

    def __init__(self, store: ActionStore, clock: Callable[[], datetime] = _now) -> None:
        self.store = store
        self.clock = clock

    def hold(self, alert: Alert) -> bool:
        now = self.clock()
        self.store.remember(alert, now)
        mute = self.store.muting(alert, now)
        if mute is None:
            return False
        self.store.record_muted(alert.id, alert.revision, now)
        log.info(
            "alert %s r%d muted (mute %d: %s for %s %s until %s): not posted",
            alert.id,
            alert.revision,
            mute.id,
            mute.rule,
            mute.scope,
            mute.value,
            mute.until.isoformat(),
        )
        return True

    def desk(self, alert: Alert) -> Desk:
        """The status line and buttons of ``alert``'s message, from what is stored now."""
        return desk_of(self.store, alert, self.clock())


def desk_of(store: ActionStore, alert: Alert, now: datetime) -> Desk:
    return status.desk(
        store.acknowledgement(alert.id),
        store.muting(alert, now),
        store.alert_corrections(alert.id),
    )
