"""The Jinja2 environment of the desk's pages: package templates, autoescaping always on.

Why autoescape everywhere (not only for ``.html``): every string on these pages may come from
a news article, and an article is untrusted input; a template can only put markup on a page
by writing it itself. Nothing from an article is ever written into a script.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("desk.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    return env


def when(value: datetime | None) -> str:
    """A moment as the pages write it: UTC, to the minute (``2026-03-14 06:00 UTC``)."""
    if value is None:
        return "—"
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    template = environment().get_template(name)
    context.setdefault("query", "")  # the view's query string, for links that keep it
    html = template.render(request=request, **context)
    return HTMLResponse(html, status_code=status)
