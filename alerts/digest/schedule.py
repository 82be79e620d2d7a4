"""When a channel's digest is due (pure: the clock is an argument).

A channel's digest is due on a local day from its configured local time until that day ends:
a notifier that was down at 08:00 posts the day's digest when it comes back at 10:00, but
never yesterday's (a digest a day late would only repeat what today's says). The period it
covers ends at the scheduled moment, not at the moment of posting, so a late digest shows
the same figures as a punctual one. Time zones come from the IANA database (``zoneinfo``):
on a day the clock jumps forward, a time in the gap is read with the offset before the jump
(02:30 becomes 03:30), so the digest still comes that day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from alerts.routing import DigestChannel


def scheduled(channel: DigestChannel, day: date) -> datetime:
    """The UTC instant of ``channel``'s digest time on local ``day``."""
    local = datetime.combine(day, channel.time, tzinfo=channel.zone)
    return local.astimezone(UTC)


def due(channel: DigestChannel, now: datetime) -> datetime | None:
    """The scheduled instant of today's (local) digest if it has come, else ``None``."""
    today = now.astimezone(channel.zone).date()
    at = scheduled(channel, today)
    return at if now >= at else None


def next_due(channel: DigestChannel, now: datetime) -> datetime:
    """The first scheduled instant strictly after ``now``."""
    today = now.astimezone(channel.zone).date()
    at = scheduled(channel, today)
    return at if at > now else scheduled(channel, today + timedelta(days=1))


def key(channel: str, day: date) -> str:
    """What the ledger keys a digest by (its "alert id"): the channel and the local day."""
    return f"digest:{channel}:{day.isoformat()}"
