"""One family for the errors Marsad raises on purpose, so an edge can tell them from bugs.

Every room's errors derive from :class:`MarsadError`; the ``marsad`` command turns one into a
one-line message and the error's ``exit_code`` instead of a traceback. :class:`ConfigError`
carries the file and line a person has to open to fix it.
"""

from __future__ import annotations

from pathlib import Path


class MarsadError(Exception):
    """Base of every deliberate Marsad error; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class ConfigError(MarsadError, ValueError):
    """A configuration file or setting is wrong; ``str()`` reads ``file:line: what``.

    ``ValueError`` stays a base so code that caught the older ``ValueError`` subclasses still
    does. ``path`` and ``line`` are optional: a bad environment variable has neither.
    """

    exit_code = 78  # sysexits EX_CONFIG

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None):
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        super().__init__(self._render())

    def _render(self) -> str:
        if self.path is None:
            return self.message
        where = f"{self.path}:{self.line}" if self.line is not None else str(self.path)
        return f"{where}: {self.message}"
