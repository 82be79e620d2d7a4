"""Errors the ingest room raises, declared where a reader looks for them."""

from __future__ import annotations


class IngestError(Exception):
    """Base of every ingest error."""


class ConfigError(IngestError):
    """``feeds.yaml`` is missing or invalid; the message names the file, feed and field."""


class BlockedURL(IngestError):
    """A URL (or the address it resolves to) is refused by the SSRF policy."""


class UnresolvableHost(BlockedURL):
    """DNS gave no answer for a host (not a policy refusal: reported as ``dns_error``)."""


class FetchError(IngestError):
    """A fetch failed; ``outcome`` is the metric label (timeout, too_large, network_error…)."""

    def __init__(self, outcome: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome


class FeedParseError(IngestError):
    """The fetched bytes are not a usable feed (HTML, entity declarations, garbage)."""


class PublishError(IngestError):
    """The broker did not confirm every article of a batch."""
