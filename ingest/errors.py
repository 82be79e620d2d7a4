"""Errors the ingest room raises, declared where a reader looks for them.

All are :class:`marsad.errors.MarsadError` (the tree is drawn in :mod:`marsad.errors`); most
are handled inside the poll loop and become a feed's outcome, only :class:`ConfigError`
stops the command.
"""

from __future__ import annotations

from marsad import errors


class IngestError(errors.MarsadError):
    """Base of every ingest error."""


class ConfigError(errors.ConfigError, IngestError):
    """``feeds.yaml`` is missing or invalid; ``file:line: feeds[3].url (feed 'X'): what``."""


class BlockedURL(IngestError):
    """A URL (or the address it resolves to) is refused by the SSRF policy."""


class UnresolvableHost(BlockedURL):
    """DNS gave no answer for a host (not a policy refusal: reported as ``dns_error``)."""


class FetchError(IngestError):
    """A fetch failed; ``outcome`` is the metric label (timeout, too_large, network_error,
    unsupported_encoding, decode_error…)."""

    def __init__(self, outcome: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome


class FeedParseError(IngestError):
    """The fetched bytes are not a usable feed (HTML, entity declarations, garbage)."""


class PublishError(IngestError):
    """The broker did not confirm every article of a batch."""
