"""What every handler of the web desk shares, built once by :func:`desk.web.app.create_app`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from starlette.requests import Request

from desk.web.params import View, parse_view
from desk.web.source import DeskSource
from desk.web.thresholds import Threshold


def utc_today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class Desk:
    source: DeskSource
    thresholds: tuple[Threshold, ...] = ()
    #: slippy-map tile URL template drawn under the outlines ("" = none)
    tile_url: str = ""
    today: Callable[[], date] = field(default=utc_today)
    #: the most incidents one listing returns (a page, the JSON); exports are not bounded
    page_limit: int = 5000

    def view(self, request: Request, *, limit: bool = True) -> View:
        """The request's parameters (raises :class:`~desk.web.params.ParamError`)."""
        return parse_view(
            request.query_params.multi_items(),
            today=self.today(),
            limit=self.page_limit if limit else None,
        )


def desk_of(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk
