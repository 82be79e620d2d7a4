"""The web desk's composition root: routes, static files, security headers, error pages.

Read-only by construction: every route is a GET (HEAD comes with it) but the sign-in form's
POST, and the source it is given only reads. Who may read is :mod:`desk.web.access`. What a
browser may do with the pages is narrowed by the headers every response carries
(:class:`SecurityHeaders`): scripts, styles, images and form posts only from this server (plus
the tile server's origin when a tile URL is configured), no frames, no plug-ins, no referrer
sent to the outlets an article links to.

Errors: a bad query parameter is a 400 that says which and why (HTML for pages, JSON for the
API, as the caller expects); an unknown incident a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from desk.web import api, pages
from desk.web.access import Access, AccessControl, login, login_page
from desk.web.context import Desk, utc_today
from desk.web.params import ParamError
from desk.web.source import DeskSource
from desk.web.templates import render
from desk.web.thresholds import load_thresholds


def content_security_policy(tile_url: str = "") -> str:
    """Only this server, for everything; images also from the tile server when there is one."""
    img = "'self' data:"
    if tile_url:
        parts = urlsplit(tile_url)
        img += f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {img}; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    )


class SecurityHeaders:
    """Adds the CSP and its companions to every response (pure ASGI: no body buffering)."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, with_headers)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.endswith(".csv")


async def bad_query(request: Request, exc: Exception) -> Response:
    message = str(exc)
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=400)
    return render(request, "error.html", status=400, page="error", status_code=400, message=message)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _wants_json(request):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
    return render(
        request,
        "error.html",
        status=exc.status_code,
        page="error",
        status_code=exc.status_code,
        message=exc.detail,
    )


async def outlines(_request: Request) -> Response:
    """The governorate outlines the map is drawn over: the kernel's file (the merge step
    reads it too), served beside the desk's own static files."""
    from marsad.geography import BOUNDARIES

    return FileResponse(BOUNDARIES, media_type="application/geo+json")


async def healthz(_request: Request) -> Response:
    return PlainTextResponse("ok\n")


def create_app(
    source: DeskSource,
    *,
    rules: Path | None = None,
    tile_url: str = "",
    today: Callable[[], date] = utc_today,
    page_limit: int = 5000,
    access: Access | None = None,
) -> ASGIApp:
    """The desk over ``source``; ``rules`` is the rules file whose thresholds the timeline
    draws (a :class:`~marsad.errors.ConfigError` if it cannot be read); ``page_limit`` is the
    most incidents a page or JSON listing returns; ``access`` who may read (default: anyone)."""
    desk = Desk(
        source=source,
        thresholds=tuple(load_thresholds(rules)) if rules is not None else (),
        tile_url=tile_url,
        today=today,
        page_limit=page_limit,
    )
    routes = [
        Route("/", pages.map_page, name="map"),
        Route("/timeline", pages.timeline_page, name="timeline"),
        Route("/incidents/{incident_id}", pages.incident_page, name="incident"),
        Route("/api/incidents", api.incidents),
        Route("/api/incidents.geojson", api.incidents_geojson),
        Route("/api/incidents/{incident_id}", api.incident),
        Route("/api/timeline", api.timeline),
        Route("/export.csv", api.export_csv),
        Route("/healthz", healthz),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/static/boundaries.geojson", outlines),
        Mount("/static", StaticFiles(packages=[("desk.web", "static")]), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={ParamError: bad_query, HTTPException: http_error},
    )
    app.state.desk = desk
    app.state.access = access or Access()
    guarded = AccessControl(app, app.state.access)
    return SecurityHeaders(guarded, content_security_policy(tile_url))
