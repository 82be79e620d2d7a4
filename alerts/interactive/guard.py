"""Is this interaction allowed? (pure: the handler brings what Marsad recorded.)

Every interaction is checked, in this order:

1. **the workspace and the app**: the payload's team and ``api_app_id`` must be the ones
   ``auth.test`` names for the bot token (a payload from elsewhere is dropped unanswered: there
   is nobody of ours to answer). The connection itself is authenticated by the app-level token
   (``apps.connections.open``); Socket Mode has no request signature to verify.
2. **the channel**: one of the routing file's channels (by id or ``#name``), or the channel
   where the alert's message is; a user elsewhere gets an ephemeral refusal.
3. **the alert**: the id must be one Marsad delivered (the delivery ledger) and remembers
   (the action store), and the click must come from that alert's own message (its channel and
   ``ts`` in the ledger). An id neither knows is refused as unknown; one only one of them knows
   has expired (a polite answer); a known id clicked from another message is forged.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from alerts.interactive.payloads import Origin


class Refusal(StrEnum):
    FOREIGN = "foreign"  # another workspace or app: dropped, logged
    CHANNEL = "channel"  # a channel outside the configured ones
    UNKNOWN = "unknown"  # an alert id Marsad never delivered
    EXPIRED = "expired"  # an alert Marsad no longer keeps
    FORGED = "forged"  # a known alert id from a message that is not its own


@dataclass(frozen=True)
class Identity:
    """Who we are, from ``auth.test`` (``app_id`` may be absent: then it is not compared)."""

    team_id: str
    app_id: str | None = None


@dataclass(frozen=True)
class Channels:
    """The configured channels: ``#names`` and ids as written in the routing file."""

    names: frozenset[str]
    ids: frozenset[str]

    @classmethod
    def of(cls, channels: list[str]) -> Channels:
        return cls(
            names=frozenset(c.lstrip("#") for c in channels if c.startswith("#")),
            ids=frozenset(c for c in channels if not c.startswith("#")),
        )

    def allows(self, channel_id: str, channel_name: str, also: str | None = None) -> bool:
        if not channel_id:
            return False
        return channel_id in self.ids or channel_name in self.names or channel_id == also


def origin(o: Origin, me: Identity) -> Refusal | None:
    if o.team_id != me.team_id:
        return Refusal.FOREIGN
    if me.app_id is not None and o.app_id != me.app_id:
        return Refusal.FOREIGN
    return None


def alert(
    *,
    channel_id: str,
    message_ts: str | None,
    delivered: tuple[str, str] | None,
    remembered: bool,
) -> Refusal | None:
    """``delivered``: the (channel, ts) the ledger holds for the alert's message, if any."""
    if delivered is None and not remembered:
        return Refusal.UNKNOWN
    if delivered is None or not remembered:
        return Refusal.EXPIRED
    if delivered != (channel_id, message_ts):
        return Refusal.FORGED
    return None
