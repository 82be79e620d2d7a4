"""The desk's optional login: a shared token (bearer or sign-in cookie) and a trusted proxy's
header; open paths stay open; a sign-in never redirects off the server."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from desk.web.access import COOKIE, Access, safe_next
from desk.web.app import create_app
from desk.web.store_source import StoreSource
from tests.support.web_desk import TODAY, sample_store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

TOKEN = "s3cret-desk-token"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreSource]:
    store = StoreSource(sample_store(tmp_path_factory.mktemp("desk-access")))
    yield store
    store.close()


def client(source: StoreSource, access: Access) -> TestClient:
    app = create_app(source, today=lambda: TODAY, access=access)
    return TestClient(app, follow_redirects=False)


def test_no_setting_asks_nobody(source: StoreSource) -> None:
    c = client(source, Access())
    assert c.get("/").status_code == 200
    assert "asks for no token" in c.get("/login").text


def test_a_token_guards_pages_and_api_but_not_health_or_static(source: StoreSource) -> None:
    c = client(source, Access(token=TOKEN))
    page = c.get("/timeline?admin1=SY-DY")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/timeline%3Fadmin1%3DSY-DY"
    api = c.get("/api/incidents")
    assert api.status_code == 401 and api.headers["www-authenticate"] == "Bearer"
    assert "token is needed" in api.json()["error"]
    assert c.get("/export.csv").status_code == 401
    assert c.get("/healthz").status_code == 200
    assert c.get("/static/desk.css").status_code == 200
    assert c.get("/api/incidents", headers={"Authorization": "Bearer nope"}).status_code == 401
    good = c.get("/api/incidents", headers={"Authorization": f"Bearer {TOKEN}"})
    assert good.status_code == 200 and good.json()["count"] == 5


def test_signing_in_sets_a_cookie_of_a_digest_and_goes_on(source: StoreSource) -> None:
    c = client(source, Access(token=TOKEN))
    form = c.get("/login?next=/incidents/inc-dy")
    assert form.status_code == 200 and 'value="/incidents/inc-dy"' in form.text
    wrong = c.post("/login", data={"token": "guess", "next": "/incidents/inc-dy"})
    assert wrong.status_code == 401 and "not the desk" in wrong.text
    assert COOKIE not in wrong.cookies
    right = c.post("/login", data={"token": TOKEN, "next": "/incidents/inc-dy"})
    assert right.status_code == 303 and right.headers["location"] == "/incidents/inc-dy"
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert TOKEN not in cookie
    assert c.get("/incidents/inc-dy").status_code == 200  # the client keeps the cookie


def test_a_sign_in_never_sends_anyone_elsewhere(source: StoreSource) -> None:
    c = client(source, Access(token=TOKEN))
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = c.post("/login", data={"token": TOKEN, "next": target})
        assert response.headers["location"] == "/"
    assert safe_next("/timeline?stack=perpetrator") == "/timeline?stack=perpetrator"


def test_a_proxy_header_is_required_everywhere_but_health(source: StoreSource) -> None:
    c = client(source, Access(user_header="X-Forwarded-User"))
    refused = c.get("/")
    assert refused.status_code == 403
    assert "X-Forwarded-User" in refused.json()["error"]
    assert c.get("/healthz").status_code == 200
    assert c.get("/", headers={"X-Forwarded-User": "analyst@example.org"}).status_code == 200


def test_token_comparison_and_cookie_do_not_leak_the_token() -> None:
    access = Access(token=TOKEN)
    assert access.token_matches(TOKEN) and not access.token_matches(TOKEN + "x")
    assert not Access().token_matches("")
    assert TOKEN not in access.cookie_value() and len(access.cookie_value()) == 64


def test_a_large_sign_in_body_is_refused(source: StoreSource) -> None:
    c = client(source, Access(token=TOKEN))
    response = c.post("/login", content=b"token=" + b"x" * 10_000)
    assert response.status_code == 413
