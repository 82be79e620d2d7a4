"""The URL's query string → what a page shows: the store's filter and the page's own choices.

Why here, once: every page and endpoint takes the same parameters (a view is shared by
sharing its URL), so they are read in one place, checked against the closed sets of the
contract and the shipped governorates, and a mistake becomes one :class:`ParamError` whose
message the app returns as a 400 (``since: not a date (got '2026-13-01')``), never a
traceback. pydantic does the checking: the parameters are a model, the messages are its own.

Parameters (each list one may be repeated: ``admin1=SY-DY&admin1=SY-HL`` means either):

``since``, ``until`` (``YYYY-MM-DD``, inclusive; default the last seven days), ``admin1``
(ISO 3166-2 governorate), ``perpetrator``, ``target`` (actor codes), ``event_type`` (ACLED
event types), ``min_killed`` (≥ 0), and the timeline's ``stack`` (``admin1`` or
``perpetrator``). An empty value (a form's "any") is the same as leaving it out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from desk.store.records import CountBy, IncidentFilter, default_since
from desk.web.geo import governorate_codes
from marsad.errors import MarsadError
from marsad.records import ActorCode, EventType

#: the parameters that may repeat
LIST_PARAMS = ("admin1", "perpetrator", "target", "event_type")
SINGLE_PARAMS = ("since", "until", "min_killed", "stack")
PARAMS = LIST_PARAMS + SINGLE_PARAMS


class ParamError(MarsadError, ValueError):
    """A query parameter the desk cannot use; its message is what the 400 page says."""

    kind = "bad query"


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    since: date | None = None
    until: date | None = None
    admin1: tuple[str, ...] = ()
    perpetrator: tuple[ActorCode, ...] = ()
    target: tuple[ActorCode, ...] = ()
    event_type: tuple[EventType, ...] = ()
    min_killed: int | None = Field(default=None, ge=0, le=1_000_000)
    stack: CountBy = "admin1"

    @field_validator("admin1")
    @classmethod
    def _known_governorates(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(codes) - governorate_codes())
        if unknown:
            raise ValueError(f"unknown governorate code {', '.join(unknown)} (ISO 3166-2)")
        return codes


@dataclass(frozen=True)
class View:
    """One page's request: the store's filter, the timeline's grouping, and the parameters as
    given (to put back into links and the form)."""

    filter: IncidentFilter
    stack: CountBy
    given: tuple[tuple[str, str], ...]

    def query(self, **changes: str | None) -> str:
        """This view's query string with ``changes`` (``None`` removes a parameter): the
        links between pages keep the filters."""
        kept = [(k, v) for k, v in self.given if k not in changes]
        kept += [(k, v) for k, v in changes.items() if v is not None]
        return urlencode(kept)

    def value(self, name: str) -> str:
        """The first value given for ``name`` ("" when none): what the form shows."""
        return next((v for k, v in self.given if k == name), "")

    def values(self, name: str) -> tuple[str, ...]:
        return tuple(v for k, v in self.given if k == name)


def _message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "query"
        if err["type"] == "extra_forbidden":
            parts.append(f"{name}: unknown parameter (known: {', '.join(PARAMS)})")
            continue
        msg = str(err["msg"]).removeprefix("Value error, ")
        got = err.get("input")
        shown = f" (got {got!r})" if isinstance(got, str) else ""
        parts.append(f"{name}: {msg}{shown}")
    return "; ".join(parts)


def parse_view(
    items: Iterable[tuple[str, str]], today: date | None = None, limit: int | None = None
) -> View:
    """Read a query string's ``(name, value)`` pairs; raise :class:`ParamError` on a bad one.

    ``since`` defaults to seven days before ``today`` only when neither date is given (a
    shared "until" view should not silently lose its start)."""
    given = tuple((k, v.strip()) for k, v in items if v.strip())
    raw: dict[str, Any] = {}
    for name, value in given:
        if name in LIST_PARAMS:
            raw.setdefault(name, []).append(value)
        elif name in raw:
            raise ParamError(f"{name}: given more than once")
        else:
            raw[name] = value
    try:
        params = _Params.model_validate(raw)
    except ValidationError as exc:
        raise ParamError(_message(exc)) from exc
    since = params.since
    if since is None and params.until is None:
        since = default_since(today)
    if since is not None and params.until is not None and since > params.until:
        raise ParamError(f"since ({since}) is after until ({params.until})")
    flt = IncidentFilter(
        since=since,
        until=params.until,
        admin1=params.admin1,
        perpetrator=params.perpetrator,
        target=params.target,
        event_type=params.event_type,
        min_killed=params.min_killed,
        limit=limit,
    )
    return View(filter=flt, stack=params.stack, given=given)
