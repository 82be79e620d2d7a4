"""The web desk in a real browser: Debian's headless Chromium (selenium) against the desk served
by uvicorn on 127.0.0.1 over a SQLite store filled by the store's writer.

One browser for the module (each start costs seconds). What a person would check: one marker
per incident in its event type's colour, a filter that changes the URL and the markers, bars
and threshold lines on the timeline, an incident page that reads right to left with the
evidence marked, an article that tries to be a script staying text, and no policy violation
or script error in the console. Screenshots go to ``$MARSAD_SCREENSHOTS`` (default: the test's
temporary directory).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from desk.web.app import create_app
from desk.web.store_source import StoreSource
from tests.support import browser
from tests.support.web_desk import CURRENT, EVIDENCE_DY, RULES, TODAY, Served, sample_store, serve

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(browser.missing() is not None, reason=browser.missing() or ""),
]

WAIT_S = 15


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    source = StoreSource(sample_store(tmp_path_factory.mktemp("desk-web")))
    with serve(create_app(source, rules=RULES, today=lambda: TODAY)) as served:
        yield served
    source.close()


@pytest.fixture(scope="module")
def chrome() -> Iterator[WebDriver]:
    with browser.chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("MARSAD_SCREENSHOTS")
    path = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def wait(chrome: WebDriver, condition: object) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(chrome, WAIT_S).until(condition)  # type: ignore[arg-type]


def markers(chrome: WebDriver) -> dict[str, str]:
    """``{incident id: class}`` of the markers the page drew."""
    from selenium.webdriver.common.by import By

    found = chrome.find_elements(By.CSS_SELECTOR, "#map circle.marker")
    return {m.get_attribute("data-id") or "": m.get_attribute("class") or "" for m in found}


def console_problems(chrome: WebDriver) -> list[str]:
    logs: list[dict[str, Any]] = chrome.get_log("browser")  # type: ignore[no-untyped-call]
    return [e["message"] for e in logs if e["level"] == "SEVERE"]


def test_map_draws_one_marker_per_incident_in_its_colour(
    chrome: WebDriver, desk: Served, shots: Path
) -> None:
    chrome.get(desk.url + "/")
    drawn = markers(chrome)
    assert set(drawn) == CURRENT
    assert "ev-explosions" in drawn["inc-bg"] and "ev-battles" in drawn["inc-dy"]
    fill = chrome.execute_script(
        "return getComputedStyle(document.querySelector('circle[data-id=\"inc-bg\"]')).fill"
    )
    assert fill == "rgb(0, 114, 178)"  # --explosions
    box = chrome.execute_script(
        "return document.querySelector('circle[data-id=\"inc-dy\"]').getBoundingClientRect()"
        ".toJSON()"
    )
    assert box["width"] > 5 and box["height"] > 5  # drawn, not just in the DOM
    chrome.save_screenshot(str(shots / "map.png"))
    assert console_problems(chrome) == []


def test_a_filter_changes_the_url_and_the_markers(chrome: WebDriver, desk: Served) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    chrome.get(desk.url + "/")
    Select(chrome.find_element(By.NAME, "admin1")).select_by_value("SY-DY")
    wait(chrome, lambda d: "admin1=SY-DY" in d.current_url)
    assert set(markers(chrome)) == {"inc-dy"}
    assert "perpetrator=" not in chrome.current_url  # empty fields are not sent

    Select(chrome.find_element(By.NAME, "admin1")).select_by_value("")
    wait(chrome, lambda d: "admin1" not in d.current_url)
    Select(chrome.find_element(By.NAME, "target")).select_by_value("CIVILIANS")
    wait(chrome, lambda d: "target=CIVILIANS" in d.current_url)
    assert set(markers(chrome)) == {"inc-hl", "inc-bg", "inc-id"}

    chrome.back()  # the previous view is a URL too, with its form restored
    wait(chrome, lambda d: "target" not in d.current_url)
    assert set(markers(chrome)) == CURRENT

    chrome.find_element(By.CSS_SELECTOR, 'path.governorate[data-admin1="IQ-AN"]').click()
    wait(chrome, lambda d: "admin1=IQ-AN" in d.current_url)  # a governorate is a filter too
    assert markers(chrome) == {}
    assert chrome.find_element(By.ID, "incident-count").text == "0"


def test_timeline_draws_bars_and_the_threshold_line(
    chrome: WebDriver, desk: Served, shots: Path
) -> None:
    from selenium.webdriver.common.by import By

    chrome.get(desk.url + "/timeline?since=2026-03-08&until=2026-03-16")
    bars = chrome.find_elements(By.CSS_SELECTOR, "#chart-deaths rect.bar")
    assert {b.get_attribute("data-key") for b in bars} == {"SY-DY", "SY-HL", "IQ-BG", "IQ-NI"}
    assert all(b.size["height"] > 0 for b in bars)
    line = chrome.find_element(
        By.CSS_SELECTOR, '#chart-deaths line.threshold[data-rule="deir-ez-zor-deaths-24h"]'
    )
    assert line.size["width"] > 500
    stroke = chrome.execute_script("return getComputedStyle(arguments[0]).strokeDasharray", line)
    assert stroke not in ("", "none")  # dashed, as the legend says
    chrome.save_screenshot(str(shots / "timeline.png"))

    from selenium.webdriver.support.ui import Select

    Select(chrome.find_element(By.NAME, "stack")).select_by_value("perpetrator")
    wait(chrome, lambda d: "stack=perpetrator" in d.current_url)
    keys = {b.get_attribute("data-key") for b in chrome.find_elements(By.CSS_SELECTOR, "rect.bar")}
    assert keys == {"ISIS", "SYRIAN_GOV", "HTS", "IRAQ_GOV"}
    assert console_problems(chrome) == []


def test_incident_page_reads_right_to_left_with_the_evidence_marked(
    chrome: WebDriver, desk: Served, shots: Path
) -> None:
    from selenium.webdriver.common.by import By

    chrome.get(desk.url + "/incidents/inc-dy")
    text = chrome.find_element(By.CSS_SELECTOR, "#article-1 .article-text")
    assert chrome.execute_script("return getComputedStyle(arguments[0]).direction", text) == "rtl"
    marked = text.find_elements(By.TAG_NAME, "mark")
    assert [m.text for m in marked] == [EVIDENCE_DY]
    assert marked[0].is_displayed()
    # right to left: the evidence's first word is drawn to the right of its last
    first, last = chrome.execute_script(
        "const r = document.createRange(); const t = arguments[0].firstChild;"
        "r.setStart(t, 0); r.setEnd(t, 3); const a = r.getBoundingClientRect().left;"
        "r.setStart(t, t.length - 3); r.setEnd(t, t.length);"
        "return [a, r.getBoundingClientRect().left];",
        marked[0],
    )
    assert first > last
    revisions = chrome.find_elements(By.CSS_SELECTOR, "#revisions tbody tr")
    assert [r.find_elements(By.TAG_NAME, "td")[2].text for r in revisions] == ["12", "14"]
    chrome.set_window_size(1280, 2400)
    chrome.save_screenshot(str(shots / "incident.png"))
    chrome.set_window_size(1280, 1000)
    assert console_problems(chrome) == []


def test_an_article_that_is_markup_stays_inert(chrome: WebDriver, desk: Served) -> None:
    from selenium.webdriver.common.by import By

    chrome.get(desk.url + "/incidents/inc-id")
    assert chrome.execute_script("return window.__xss === undefined")
    title = chrome.find_element(By.CSS_SELECTOR, "#article-1 h3")
    assert "<script>" in title.text  # shown as the text it is
    assert title.find_elements(By.TAG_NAME, "a") == []  # javascript: is never a link
    assert chrome.find_elements(By.CSS_SELECTOR, ".article-text img") == []
    assert console_problems(chrome) == []
