"""Errors of the embedded local broker, each naming what the user can do about it."""

from __future__ import annotations

from marsad.errors import MarsadError


class BrokerError(MarsadError, RuntimeError):
    """Base class: anything that stops the local broker from being fetched, started or stopped."""


class JarFetchError(BrokerError):
    """Maven could not fetch the broker jars (no Maven, no network to Maven Central, ...)."""


class JavaNotFoundError(BrokerError):
    """No ``java`` on PATH and no usable ``JAVA_HOME``."""


class PortInUseError(BrokerError):
    """A port the broker needs is held by another process."""


class BrokerStartError(BrokerError):
    """The broker process died or did not become ready before the deadline."""


class NoBrokerError(BrokerError):
    """No broker is configured and no local one runs (and the caller may not start one)."""
