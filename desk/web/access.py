"""Who may read the desk: nobody is asked (the default, bound to 127.0.0.1), a shared token, or
a trusted reverse proxy's header.

Why these two and nothing more: the desk is read-only and small teams run it; a shared token
(``MARSAD_WEB_TOKEN``) is enough to keep a port opened by mistake from publishing the store,
and an organisation with single sign-on already has a proxy that authenticates people and says
who they are in a header (``MARSAD_WEB_USER_HEADER``, e.g. ``X-Forwarded-User``); the desk then
only refuses requests that did not come through it. Anything richer belongs in that proxy.

With a token, a script sends ``Authorization: Bearer <token>``; a person types it once into
``/login``, which sets an HttpOnly, SameSite=Strict cookie holding a digest of the token (never
the token). ``/healthz`` and ``/static/`` stay open (health checks, the login page's CSS).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from desk.web.templates import render

COOKIE = "marsad_desk"
#: paths every request may read: health checks, and the CSS the sign-in page uses
ALWAYS_OPEN = ("/healthz", "/static/")
MAX_LOGIN_BODY = 4096


@dataclass(frozen=True)
class Access:
    token: str = ""
    user_header: str = ""

    @property
    def open(self) -> bool:
        return not self.token and not self.user_header

    def cookie_value(self) -> str:
        """What the login cookie holds: a keyed digest of the token, not the token."""
        return hmac.new(self.token.encode(), b"marsad-desk-login", hashlib.sha256).hexdigest()

    def token_matches(self, given: str) -> bool:
        return bool(self.token) and hmac.compare_digest(given.encode(), self.token.encode())

    def proxy_refusal(self, headers: dict[str, str]) -> str | None:
        """Why a request did not come through the trusted proxy (``None``: it did, or no
        proxy is configured). Header names in lower case."""
        if self.user_header and not headers.get(self.user_header.lower(), "").strip():
            return f"no {self.user_header} header: this desk is read through its proxy"
        return None

    def token_refusal(self, headers: dict[str, str], cookies: dict[str, str]) -> str | None:
        """Why a request may not read without the token (``None``: it has it, or none is set)."""
        if not self.token:
            return None
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and self.token_matches(auth[7:].strip()):
            return None
        if hmac.compare_digest(cookies.get(COOKIE, ""), self.cookie_value()):
            return None
        return "a token is needed (Authorization: Bearer …, or sign in at /login)"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this server only (never ``//host`` or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


class AccessControl:
    """ASGI middleware applying :class:`Access` to every request but the open paths."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.access.open:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = request.url.path
        if path.startswith(ALWAYS_OPEN):
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in request.headers.items()}
        response: Response | None = None
        wants_json = path.startswith("/api/") or path.endswith(".csv")
        if (reason := self.access.proxy_refusal(headers)) is not None:
            response = JSONResponse({"error": reason}, status_code=403)
        elif path == "/login":
            pass  # the sign-in form itself
        elif (reason := self.access.token_refusal(headers, dict(request.cookies))) is None:
            pass
        elif wants_json:
            response = JSONResponse(
                {"error": reason}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        else:
            target = path + (f"?{request.url.query}" if request.url.query else "")
            response = RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        if response is None:
            await self.app(scope, receive, send)
        else:
            await response(scope, receive, send)


def _access(request: Request) -> Access:
    access: Access = request.app.state.access
    return access


def login_page(request: Request) -> Response:
    """The sign-in form (GET)."""
    return render(
        request,
        "login.html",
        page="login",
        next=safe_next(request.query_params.get("next")),
        failed=False,
        enabled=bool(_access(request).token),
    )


async def login(request: Request) -> Response:
    """The form's POST: the right token sets the cookie and goes on to ``next``.

    The body is read as ``application/x-www-form-urlencoded`` with the standard library
    (Starlette's own form parser needs python-multipart, which the project does not install),
    and bounded: a sign-in is a few dozen bytes."""
    access = _access(request)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_LOGIN_BODY:
            return JSONResponse({"error": "sign-in form too large"}, status_code=413)
    form = parse_qs(body.decode("utf-8", "replace"))
    given = (form.get("token") or [""])[0]
    target = safe_next((form.get("next") or ["/"])[0])
    if not access.token_matches(given):
        return render(
            request,
            "login.html",
            status=401,
            page="login",
            next=target,
            failed=True,
            enabled=bool(access.token),
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        access.cookie_value(),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response
