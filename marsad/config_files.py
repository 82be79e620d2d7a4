"""Config files read one way: YAML text in, a pydantic model out, or a ConfigError at file:line.

Why one piece: the rules, the routing, the feeds and the extractor's lexicons are all files a
person edits, and a mistake in any of them should stop start-up the same way: the file, the
line of the offending key, where in the document it is, and what is wrong
(``config/routing.yaml:7: routes.0.match.actors: unknown actor codes ['NATO']``). Each file
describes itself once with a :class:`ConfigFile` (its model, its error class, how a reader
names a location in it); reading, YAML errors, the line lookup and the wording live here.

Several problems make one error: the first gives the error's ``path`` and ``line``, each
further one follows on its own indented ``file:line: …`` line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from marsad.errors import ConfigError, where

__all__ = ["ConfigFile", "Loc", "dotted", "line_of"]

M = TypeVar("M", bound=BaseModel)
#: a pydantic error location: keys and list indexes from the document's top
Loc = tuple[int | str, ...]


def dotted(loc: Loc, data: Any) -> str:
    """``routes.0.match.actors``: the location as a reader follows it down the file."""
    return ".".join(str(part) for part in loc)


def _as_is(loc: Loc) -> Loc:
    return loc


def line_of(root: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of ``loc`` in a composed YAML tree: the offending key's line, or the
    line of the deepest mapping or list that exists (a missing key is reported where it
    belongs). ``None`` without a tree or for the document as a whole."""
    if root is None or not loc:
        return None
    node = root
    for i, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == part), None)
            if found is None:
                break
            node = found[0] if i == len(loc) - 1 else found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
        else:
            break
    return node.start_mark.line + 1


def _problem(err: Any) -> str:
    """pydantic's message, without its "Value error, " prefix, with the scalar it refused."""
    msg = str(err["msg"]).removeprefix("Value error, ")
    got = err.get("input")
    if isinstance(got, str | int | float) and repr(got) not in msg:
        msg += f" (got {got!r})"
    return msg


@dataclass(frozen=True)
class ConfigFile(Generic[M]):
    """One kind of config file: what it must hold, and how its mistakes are reported."""

    model: type[M]
    #: the file as the messages call it: "cannot read {what}"
    what: str
    #: what the top of the document must be: "expected {shape}"
    shape: str
    #: the room's ConfigError subclass, so callers can catch the room's errors
    error: type[ConfigError] = ConfigError
    #: how a reader names a location (``rule #1 (dy-24h) field 'threshold'``); "" for the top
    where: Callable[[Loc, Any], str] = dotted
    #: a pydantic location as keys of the file (drops the tag pydantic adds for a tagged union)
    in_file: Callable[[Loc], Loc] = _as_is
    #: what an empty document stands for; ``None``: an empty file is an error
    empty: Any = None

    def load(self, path: Path) -> M:
        """Read, parse and validate ``path``; every problem is one :attr:`error`."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise self.error(f"cannot read {self.what}: {exc.strerror or exc}", path) from exc
        except UnicodeDecodeError as exc:
            raise self.error(f"{self.what} is not UTF-8 text: {exc.reason}", path) from exc
        return self.parse(text, path)

    def parse(self, text: str, source: Path | str) -> M:
        """Validate a document's text; ``source`` names it in the errors."""
        data, root = _compose(text, source, self.error)
        return self.validate(data, source, root)

    def validate(self, data: Any, source: Path | str, root: yaml.Node | None = None) -> M:
        """Validate an already-loaded document. With ``root`` (its composed YAML tree) each
        problem carries its line; without it (a dict built in code) only the file."""
        if data is None:
            data = self.empty
        if data is None:
            raise self.error(f"the file is empty; expected {self.shape}", source)
        if not isinstance(data, dict):
            top = root.start_mark.line + 1 if root is not None else None
            raise self.error(f"expected {self.shape}", source, top)
        try:
            return self.model.model_validate(data)
        except ValidationError as exc:
            raise self._located(exc, data, root, source) from exc

    def _located(
        self, exc: ValidationError, data: Any, root: yaml.Node | None, source: Path | str
    ) -> ConfigError:
        found: list[tuple[int | None, str]] = []
        for err in exc.errors():
            loc = self.in_file(tuple(err["loc"]))
            named, problem = self.where(loc, data), _problem(err)
            found.append((line_of(root, loc), f"{named}: {problem}" if named else problem))
        (line, first), rest = found[0], found[1:]
        more = "".join(f"\n  {where(source, n)}: {text}" for n, text in rest)
        return self.error(first + more, source, line)


def _compose(
    text: str, source: Path | str, error: type[ConfigError]
) -> tuple[Any, yaml.Node | None]:
    """The document and its node tree (for lines), parsed once."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        detail = exc.problem or "unreadable"
        if exc.context:
            detail = f"{exc.context}: {detail}"
        column = f" (column {mark.column + 1})" if mark is not None else ""
        line = mark.line + 1 if mark is not None else None
        raise error(f"not valid YAML: {detail}{column}", source, line) from exc
    except yaml.YAMLError as exc:
        raise error(f"not valid YAML: {exc}", source) from exc
    finally:
        loader.dispose()
    return data, root
