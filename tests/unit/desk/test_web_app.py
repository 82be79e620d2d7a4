"""The web desk through Starlette's TestClient over a real SQLite store filled by the writer:
every page and endpoint, the filters, the 400s, the shapes, the headers, inert articles."""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from desk.web.app import create_app
from desk.web.store_source import StoreSource
from tests.support.web_desk import CURRENT, RULES, TODAY, XSS_TEXT, sample_store

with warnings.catch_warnings():  # starlette asks for httpx2 in its next major; httpx is locked
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ACLED = (
    "event_id_cnty,event_date,time_precision,disorder_type,event_type,sub_event_type,actor1,"
    "assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,"
    "country,admin1,admin2,location,latitude,longitude,geo_precision,source,source_scale,notes,"
    "fatalities,timestamp"
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    source = StoreSource(sample_store(tmp_path_factory.mktemp("desk")))
    app = create_app(source, rules=RULES, today=lambda: TODAY)
    with TestClient(app) as c:
        yield c
    source.close()


def marker_ids(html: str) -> set[str]:
    return set(re.findall(r'<circle class="marker [^"]*" data-id="([^"]+)"', html))


def test_map_draws_one_marker_per_current_incident_coloured_by_event_type(
    client: TestClient,
) -> None:
    html = client.get("/").text
    assert marker_ids(html) == CURRENT  # the merged twin is not drawn
    assert re.search(r'class="marker ev-explosions" data-id="inc-bg"', html)
    assert re.search(r'class="marker ev-civilians approximate" data-id="inc-id"', html)
    assert html.count('class="governorate ') == 32  # every shipped governorate outlined
    assert '<strong id="incident-count">5</strong>' in html


def test_marker_area_grows_with_the_toll(client: TestClient) -> None:
    html = client.get("/").text
    radius = dict(re.findall(r'data-id="([^"]+)" cx="[^"]+" cy="[^"]+" r="([^"]+)"', html))
    assert float(radius["inc-bg"]) > float(radius["inc-dy"]) > float(radius["inc-hl"])
    assert float(radius["inc-ni"]) > float(radius["inc-id"])  # 2 killed vs not reported


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("admin1=SY-DY", {"inc-dy"}),
        ("admin1=SY-DY&admin1=IQ-BG", {"inc-dy", "inc-bg"}),
        ("perpetrator=SYRIAN_GOV", {"inc-hl"}),
        ("target=CIVILIANS", {"inc-hl", "inc-bg", "inc-id"}),
        ("event_type=Explosions/Remote violence", {"inc-hl", "inc-bg"}),
        ("min_killed=13", {"inc-dy", "inc-bg"}),
        ("since=2026-03-16", {"inc-id", "inc-ni"}),
        ("until=2026-03-14", {"inc-dy"}),
        ("since=2026-03-15&until=2026-03-15&target=CIVILIANS&min_killed=5", {"inc-bg"}),
        ("since=2026-03-01&perpetrator=&admin1=", CURRENT),  # a form's empty "any"
    ],
)
def test_filters_narrow_the_map_and_the_json_alike(
    client: TestClient, query: str, expected: set[str]
) -> None:
    assert marker_ids(client.get(f"/?{query}").text) == expected
    body = client.get(f"/api/incidents?{query}").json()
    assert {i["id"] for i in body["incidents"]} == expected
    assert body["count"] == len(expected)


def test_default_view_is_the_last_seven_days(client: TestClient) -> None:
    body = client.get("/api/incidents").json()
    assert body["filter"]["since"] == "2026-03-10"
    assert body["filter"]["until"] is None


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("since=2026-13-01", "since:"),
        ("until=yesterday", "until:"),
        ("admin1=SY-XX", "unknown governorate code SY-XX"),
        ("perpetrator=NATO", "perpetrator"),
        ("event_type=Riots", "event_type"),
        ("min_killed=-1", "min_killed"),
        ("min_killed=many", "min_killed"),
        ("since=2026-03-16&until=2026-03-01", "is after until"),
        ("stack=weather", "stack"),
        ("colour=red", "colour: unknown parameter"),
        ("since=2026-03-01&since=2026-03-02", "given more than once"),
    ],
)
def test_bad_parameters_are_a_400_that_says_why(client: TestClient, query: str, says: str) -> None:
    page = client.get(f"/?{query}")
    assert page.status_code == 400
    assert says in page.text
    assert "Traceback" not in page.text
    api = client.get(f"/api/incidents?{query}")
    assert api.status_code == 400
    assert says in api.json()["error"]
    assert client.get(f"/export.csv?{query}").status_code == 400
    assert client.get(f"/api/timeline?{query}").status_code == 400


def test_every_response_has_a_strict_content_security_policy(client: TestClient) -> None:
    for path in ("/", "/timeline", "/incidents/inc-dy", "/api/incidents", "/?since=x"):
        csp = client.get(path).headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp


def test_pages_have_no_inline_script_or_event_handler(client: TestClient) -> None:
    for path in ("/", "/timeline", "/incidents/inc-dy", "/incidents/inc-id"):
        html = client.get(path).text
        assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/desk.js" defer>']
        assert not re.search(r"<[^>]*\son[a-z]+=", html)  # a tag with an on… attribute
        assert "style=" not in html


def test_an_article_that_is_markup_stays_text(client: TestClient) -> None:
    html = client.get("/incidents/inc-id").text
    assert "<script>window.__xss" not in html
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert 'href="javascript:' not in html
    assert "link not shown (not http/https)" in html
    assert "&lt;img src=x onerror=" in html
    assert XSS_TEXT.split()[0] in html


def test_incident_page_is_rtl_with_the_evidence_marked(client: TestClient) -> None:
    html = client.get("/incidents/inc-dy").text
    assert '<div class="article-text" dir="rtl" lang="ar">' in html
    assert '<blockquote class="evidence" dir="rtl" lang="ar"' in html
    assert "<mark>قتل 14 عنصراً من قوات النظام" in html
    assert html.count("<mark>") == 3  # the evidence block and both articles
    assert '<bdi lang="ar" dir="rtl">الميادين</bdi>' in html


def test_incident_page_shows_revisions_sides_sources_merges_and_alerts(
    client: TestClient,
) -> None:
    html = client.get("/incidents/inc-dy").text
    rows = re.findall(r'<tr data-revision="(\d)">', html)
    assert rows == ["1", "2"]
    assert re.findall(r'<circle class="toll-dot" data-revision="(\d)"', html) == ["1", "2"]
    assert 'id="toll"' not in client.get("/incidents/inc-hl").text  # one revision: no line
    assert "same place (Al-Mayadin)" in html
    assert "Enab Baladi" in html
    assert re.search(
        r"Syrian government forces <code>SYRIAN_GOV</code></td><td class=\"num\">12", html
    )
    assert "deadly-incident" in html and "alert-dy" in html
    assert 'href="https://example.org/dy-1" rel="noopener noreferrer nofollow"' in html
    assert "2026-03-14 06:00 UTC" in html


def test_a_merged_incident_page_says_where_it_went(client: TestClient) -> None:
    html = client.get("/incidents/inc-twin").text
    assert 'merged into <a href="/incidents/inc-hl">inc-hl</a>' in html
    assert 'href="/incidents/inc-twin"' in client.get("/incidents/inc-hl").text


def test_unknown_incident_is_a_404(client: TestClient) -> None:
    assert client.get("/incidents/inc-none").status_code == 404
    api = client.get("/api/incidents/inc-none")
    assert api.status_code == 404
    assert "inc-none" in api.json()["error"]


def test_incident_json_has_the_whole_story(client: TestClient) -> None:
    body = client.get("/api/incidents/inc-dy").json()
    assert body["current"]["revision"] == 2
    assert body["current"]["url"] == "/incidents/inc-dy"
    assert [r["killed"] for r in body["revisions"]] == [12, 14]
    assert body["revisions"][1]["sources_added"] == ["Enab Baladi"]
    assert [a["id"] for a in body["articles"]] == ["art-dy-1", "art-dy-2"]
    assert [a["id"] for a in body["alerts"]] == ["alert-dy"]
    assert body["merge_reasons"][0] == "same place (Al-Mayadin)"


def test_timeline_draws_stacked_bars_and_the_daily_thresholds(client: TestClient) -> None:
    html = client.get("/timeline?since=2026-03-14&until=2026-03-16").text
    bars = re.findall(r'<rect class="bar" data-day="([^"]+)" data-key="([^"]+)"', html)
    assert ("2026-03-15", "IQ-BG") in bars and ("2026-03-15", "SY-HL") in bars
    lines = re.findall(r'<line class="threshold" data-rule="([^"]+)" data-value="([^"]+)"', html)
    assert ("deir-ez-zor-deaths-24h", "25.0") in lines  # deaths chart
    assert ("governorate-surge", "5.0") in lines  # incidents chart
    assert "isis-attacks-7d" in html  # listed: a weekly window is not drawn per day
    assert "isis-attacks-7d" not in {rule for rule, _ in lines}
    by_actor = client.get("/timeline?since=2026-03-14&stack=perpetrator").text
    keys = set(re.findall(r'data-key="([^"]+)"', by_actor))
    assert keys == {"ISIS", "SYRIAN_GOV", "HTS", "IRAQ_GOV"}


def test_timeline_json_counts_per_day(client: TestClient) -> None:
    body = client.get("/api/timeline?since=2026-03-14&stack=admin1").json()
    assert body["stack"] == "admin1"
    counts = {(c["day"], c["key"]): (c["incidents"], c["deaths"]) for c in body["counts"]}
    assert counts[("2026-03-15", "IQ-BG")] == (1, 22)
    assert body["totals"] == {"incidents": 5, "deaths": 41}
    assert {t["rule"] for t in body["thresholds"]} >= {"deir-ez-zor-deaths-24h"}


def test_geojson_has_one_point_feature_per_incident(client: TestClient) -> None:
    response = client.get("/api/incidents.geojson?admin1=SY-DY&admin1=IQ-BG")
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    points = {f["properties"].get("id", f.get("id")): f["geometry"] for f in body["features"]}
    assert set(points) == {"inc-dy", "inc-bg"}
    assert points["inc-bg"] == {"type": "Point", "coordinates": [44.36, 33.31]}


def test_csv_export_has_acled_columns_and_honours_the_filters(client: TestClient) -> None:
    response = client.get("/export.csv?event_type=Explosions/Remote violence")
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.text
    assert text.splitlines()[0] == ACLED
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 2
    assert {r["fatalities"] for r in rows} == {"3", "22"}


def test_static_files_and_health(client: TestClient) -> None:
    assert client.get("/healthz").text == "ok\n"
    assert client.get("/static/desk.css").status_code == 200
    js = client.get("/static/desk.js")
    assert js.status_code == 200 and "autosubmit" in js.text
    boundaries = client.get("/static/boundaries.geojson").json()
    assert len(boundaries["features"]) == 32


def test_links_between_pages_keep_the_filters(client: TestClient) -> None:
    html = client.get("/?admin1=SY-DY&min_killed=3").text
    assert 'href="/timeline?admin1=SY-DY&amp;min_killed=3"' in html
    assert 'href="/export.csv?admin1=SY-DY&amp;min_killed=3"' in html
    assert '<option value="SY-DY" selected>' in html


def test_pages_are_read_only(client: TestClient) -> None:
    assert client.post("/").status_code == 405
    assert client.delete("/api/incidents/inc-dy").status_code == 405


def test_tile_background_is_optional_and_allowed_by_the_csp(tmp_path: Path) -> None:
    source = StoreSource(sample_store(tmp_path))
    app = create_app(
        source, tile_url="https://tiles.example.org/{z}/{x}/{y}.png", today=lambda: TODAY
    )
    with TestClient(app) as c:
        response = c.get("/")
    source.close()
    assert (
        "img-src 'self' data: https://tiles.example.org"
        in response.headers["content-security-policy"]
    )
    assert re.search(r'<image href="https://tiles.example.org/6/\d+/\d+.png"', response.text)


def test_a_capped_map_says_how_many_it_drew_of_how_many(tmp_path: Path) -> None:
    source = StoreSource(sample_store(tmp_path))
    app = create_app(source, today=lambda: TODAY, page_limit=2)
    with TestClient(app) as c:
        html = c.get("/").text
        listed = c.get("/api/incidents").json()
    source.close()
    assert marker_ids(html) == {"inc-id", "inc-ni"}  # the newest day's
    assert '<strong id="incident-count">5</strong> incidents (the newest 2 drawn' in html
    assert listed["count"] == 2


def test_a_governorate_and_a_timeline_bar_link_to_the_narrowed_map(client: TestClient) -> None:
    html = client.get("/?min_killed=2").text
    assert '<a href="/?min_killed=2&amp;admin1=SY-DY"><path class="governorate' in html
    timeline = client.get("/timeline?since=2026-03-14&stack=perpetrator").text
    link = "/?stack=perpetrator&amp;since=2026-03-15&amp;until=2026-03-15&amp;perpetrator=ISIS"
    assert f'<a href="{link}"><rect class="bar"' in timeline
    narrowed = client.get(link.replace("&amp;", "&")).text
    assert marker_ids(narrowed) == {"inc-bg"}
