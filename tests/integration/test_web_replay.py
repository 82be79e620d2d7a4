"""A sample archive, replayed through the real pipeline, read on the desk in a real browser.

``marsad replay`` publishes ``tests/fixtures/desk/replay_archive.jsonl`` (five reports
written for the project: an attack near Al-Mayadin whose toll a second report raises, an air
strike on Kafr Nabl, a roadside bomb near Nawa, a car bomb in Baghdad) to its own namespace on
the session's broker (one partition, so the reports are read in the archive's order), runs
``marsad stream`` and the notifier over it, and keeps its topics (``--keep-state``).
``marsad store --once``, given that namespace as ``MARSAD_TOPIC_PREFIX``, consumes the
incidents, alerts and articles the stream produced into a SQLite store, and ``marsad web``
serves it. Nothing is written to the database by the test.

Then headless Chromium: one marker per incident the pipeline made, a filter that narrows them,
the merged attack's page with both reports, the evidence marked right to left and its two
revisions, and the link of the alert the notifier wrote (``MARSAD_PUBLIC_URL`` is the web's
address) opening that very page.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from control.replay import _cleanup
from desk.store.service import store_group
from marsad.settings import PROJECT_ROOT
from marsad.topics import Topics
from tests.support import browser
from tests.support.kafka_helpers import wait_until
from tests.support.web_desk import free_port

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(browser.missing() is not None, reason=browser.missing() or ""),
]

ARCHIVE = PROJECT_ROOT / "tests" / "fixtures" / "desk" / "replay_archive.jsonl"
MARSAD = str(Path(sys.executable).with_name("marsad"))
NAMESPACE = re.compile(r"; namespace (\S+);")
#: the archive's days (the reports say "today"; the map's default is the last 7 days)
VIEW = "since=2026-03-13&until=2026-03-17"
#: the places the extractor finds in the archive: one incident each, the attack merged
PLACES = {"Al-Mayadin Desert", "Kafr Nabl", "Nawa", "Baghdad"}
WAIT_S = 15


@dataclass(frozen=True)
class Desk:
    url: str
    #: the messages the replay's notifier wrote (its console sink's JSON Lines)
    messages: list[dict[str, Any]]
    logs: Path


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MARSAD_"))}
    env.update(MARSAD_HOME=str(tmp / "home"), PYTHONPATH=str(PROJECT_ROOT), **extra)
    return env


@pytest.fixture(scope="module")
def desk(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    tmp = tmp_path_factory.mktemp("desk-replay")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _env(
        tmp,
        MARSAD_KAFKA_BOOTSTRAP=kafka_bootstrap,
        MARSAD_PUBLIC_URL=base,
        MARSAD_DATABASE_URL=f"sqlite:///{tmp / 'desk.db'}",
        MARSAD_WEB_LISTEN=f"127.0.0.1:{port}",
    )
    replay = subprocess.run(
        [MARSAD, "replay", str(ARCHIVE), "--keep-state", "--alerts-out", str(tmp / "alerts.jsonl")],
        # one partition: the stream reads the reports in the archive's order, so the attack's
        # first report makes the incident and the second raises its toll (in the other order
        # the later report's incident would be merged into the earlier one's, one revision)
        env={**env, "MARSAD_PARTITIONS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert replay.returncode == 0, replay.stderr[-3000:]
    found = NAMESPACE.search(replay.stderr)
    assert found, replay.stderr[-2000:]
    prefix = found.group(1)
    topics = Topics(prefix)
    web = None
    try:
        env["MARSAD_TOPIC_PREFIX"] = prefix
        # the store reads the replay's namespace from its start and stops once it is idle
        store = subprocess.run(
            [MARSAD, "store", "--once", "--max-idle", "3"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert store.returncode == 0, store.stderr[-3000:]
        with (tmp / "web.log").open("ab") as log:
            web = subprocess.Popen([MARSAD, "web"], env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_until(
            lambda: web is not None and web.poll() is None and _status(base + "/healthz") == 200,
            timeout=60,
            message=f"marsad web answering (log in {tmp})",
            interval=0.3,
        )
        sink = tmp / "home" / "replay" / prefix.rstrip(".") / "home" / "alerts.jsonl"
        messages = [json.loads(line) for line in sink.read_text("utf-8").splitlines()]
        yield Desk(base, messages, tmp)
    finally:
        if web is not None and web.poll() is None:
            web.send_signal(signal.SIGTERM)
            web.wait(timeout=30)
        groups = [topics.stream_app_id, topics.alerts_group, store_group(topics)]
        _cleanup(kafka_bootstrap, prefix, groups)


def _status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.TransportError:
        return None


@pytest.fixture(scope="module")
def chrome() -> Iterator[WebDriver]:
    with browser.chromium() as driver:
        yield driver


def listed(desk: Desk, query: str = VIEW) -> dict[str, dict[str, Any]]:
    """``{place: incident}`` of the listing the JSON gives for ``query``."""
    body = httpx.get(f"{desk.url}/api/incidents?{query}", timeout=10).json()
    return {i["place_en"]: i for i in body["incidents"]}


def markers(chrome: WebDriver) -> set[str]:
    from selenium.webdriver.common.by import By

    found = chrome.find_elements(By.CSS_SELECTOR, "#map circle.marker")
    return {m.get_attribute("data-id") or "" for m in found}


def wait(chrome: WebDriver, condition: object) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(chrome, WAIT_S).until(condition)  # type: ignore[arg-type]


def console_problems(chrome: WebDriver) -> list[str]:
    logs: list[dict[str, Any]] = chrome.get_log("browser")  # type: ignore[no-untyped-call]
    return [e["message"] for e in logs if e["level"] == "SEVERE"]


def test_the_map_shows_the_replayed_incidents_and_a_filter_narrows_them(
    desk: Desk, chrome: WebDriver
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    incidents = listed(desk)
    assert set(incidents) == PLACES  # the two reports of the attack are one incident
    chrome.get(f"{desk.url}/?{VIEW}")
    assert markers(chrome) == {i["id"] for i in incidents.values()}
    assert chrome.find_element(By.ID, "incident-count").text == str(len(PLACES))

    Select(chrome.find_element(By.NAME, "admin1")).select_by_value("SY-ID")
    wait(chrome, lambda d: "admin1=SY-ID" in d.current_url)
    assert markers(chrome) == {incidents["Kafr Nabl"]["id"]}
    assert "since=2026-03-13" in chrome.current_url  # the other filters are kept

    Select(chrome.find_element(By.NAME, "admin1")).select_by_value("")
    wait(chrome, lambda d: "admin1" not in d.current_url)
    Select(chrome.find_element(By.NAME, "perpetrator")).select_by_value("ISIS")
    wait(chrome, lambda d: "perpetrator=ISIS" in d.current_url)
    assert markers(chrome) == {incidents["Al-Mayadin Desert"]["id"]}
    assert console_problems(chrome) == []


def test_the_merged_attacks_page_shows_both_reports_the_evidence_and_its_revisions(
    desk: Desk, chrome: WebDriver
) -> None:
    from selenium.webdriver.common.by import By

    attack = listed(desk)["Al-Mayadin Desert"]
    chrome.get(f"{desk.url}/incidents/{attack['id']}")
    texts = chrome.find_elements(By.CSS_SELECTOR, ".article-text")
    assert len(texts) == 2  # both reports, each with its own text
    for text in texts:
        assert chrome.execute_script("return getComputedStyle(arguments[0]).direction", text) == (
            "rtl"
        )
    marked = [m.text for m in chrome.find_elements(By.CSS_SELECTOR, ".article-text mark")]
    assert marked and all(m.strip() for m in marked)
    assert any("19" in m or "14" in m for m in marked)
    revisions = chrome.find_elements(By.CSS_SELECTOR, "#revisions tbody tr")
    tolls = [r.find_elements(By.TAG_NAME, "td")[2].text for r in revisions]
    assert tolls == ["14", "19"]  # the second report raised the toll
    links = {a.get_attribute("href") for a in chrome.find_elements(By.CSS_SELECTOR, "a[href]")}
    assert {"https://example.org/sample/mayadin-1", "https://example.org/sample/mayadin-2"} <= links
    assert console_problems(chrome) == []


def test_the_alerts_link_opens_the_incidents_page(desk: Desk, chrome: WebDriver) -> None:
    from selenium.webdriver.common.by import By

    incidents = {i["id"]: place for place, i in listed(desk).items()}
    link = re.compile(re.escape(desk.url) + r"/incidents/([^|>]+)\|Open in the desk>")
    linked = {
        found.group(1)
        for message in desk.messages
        for found in link.finditer(json.dumps(message["blocks"], ensure_ascii=False))
    }
    # every incident the rules alerted on (a toll of 10 or more) links to its page
    assert {incidents[i] for i in linked} == {"Al-Mayadin Desert", "Kafr Nabl", "Baghdad"}
    attack = next(i for i, place in incidents.items() if place == "Al-Mayadin Desert")
    chrome.get(f"{desk.url}/incidents/{attack}")
    assert "Al-Mayadin" in chrome.find_element(By.TAG_NAME, "h1").text
    alerts = chrome.find_elements(By.CSS_SELECTOR, "#alerts tbody tr")
    assert alerts  # the alert that carried the link is on the page it opens
