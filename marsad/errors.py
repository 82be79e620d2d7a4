"""One family for the errors Marsad raises on purpose, so an edge can tell them from bugs.

Every room's errors derive from :class:`MarsadError`; a ``marsad`` command turns one into a
one-line message (``marsad <cmd>: <kind>: <what>``) and the error's ``exit_code`` instead of
a traceback (:mod:`marsad.commands`). :class:`ConfigError` carries the file and line a person
has to open to fix it. The whole tree, drawn once here::

    MarsadError                               exit 1  marsad.errors
    ├── ConfigError (+ ValueError)            exit 2  marsad.errors    "file:line: what"
    │   ├── RulesError                                stream.rules     config/rules.yaml
    │   ├── RoutingError                              alerts.routing   config/routing.yaml
    │   ├── LexiconError                              stream.extract.schema (its data/*.yaml)
    │   └── ConfigError (+ IngestError)               ingest.errors    config/feeds.yaml
    ├── RecordError (+ ValueError)                    marsad.records   a message, not its record
    ├── IngestError                                   ingest.errors
    │   ├── BlockedURL
    │   │   └── UnresolvableHost
    │   ├── FetchError
    │   ├── FeedParseError
    │   └── PublishError
    ├── DeliveryError                                 alerts.delivery
    │   ├── TransientDeliveryError
    │   ├── PermanentDeliveryError
    │   └── LookupUnsupported
    └── BrokerError (+ RuntimeError)                  marsad.kafka.errors
        ├── JarFetchError
        ├── JavaNotFoundError
        ├── PortInUseError
        ├── BrokerStartError
        └── NoBrokerError

A config error exits 2, as ``marsad ingest`` always has for a bad feeds file (and click for a
bad option): the command cannot run as configured, and running it again will not help.
Errors a room handles itself (a feed that fails to fetch, a Slack call to retry) belong to
the family too, so whatever escapes to the edge is reported the same way.
"""

from __future__ import annotations

from pathlib import Path


class MarsadError(Exception):
    """Base of every deliberate Marsad error; ``exit_code`` is what the CLI exits with."""

    exit_code = 1
    #: how the command line names this kind of error: ``marsad stream: error: …``
    kind = "error"


class ConfigError(MarsadError, ValueError):
    """A configuration file or setting is wrong; ``str()`` reads ``file:line: what``.

    ``ValueError`` stays a base so code that caught the older ``ValueError`` subclasses still
    does. ``path`` and ``line`` are optional: a bad environment variable has neither, and a
    document validated without its text (a dict in a test) has no line.
    """

    exit_code = 2
    kind = "configuration error"

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None):
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        super().__init__(self._render())

    def _render(self) -> str:
        if self.path is None:
            return self.message
        return f"{where(self.path, self.line)}: {self.message}"


def where(path: Path | str, line: int | None) -> str:
    """``file:line`` (or ``file`` when the line is unknown), as editors and terminals link it."""
    return f"{path}:{line}" if line is not None else str(path)
