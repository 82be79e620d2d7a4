"""The desk's live path through the real broker: records on the ``articles``, ``incidents`` and
``alerts`` topics → ``marsad store`` (a process) → the database → ``marsad web`` (a process)
→ the pages and the JSON. Nothing is written to the database by the test itself."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from marsad.topics import Topics, ensure_topics
from tests.support.kafka_helpers import produce_json, wait_until
from tests.support.web_desk import CURRENT, alerts, articles, free_port, incidents

pytestmark = pytest.mark.integration

MARSAD = str(Path(sys.executable).with_name("marsad"))
ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 2


def _json(model: Any) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json")
    data["schema"] = 1
    return data


def _start(command: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([MARSAD, command], env=env, stdout=out, stderr=subprocess.STDOUT)


def _get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5)
    except httpx.TransportError:
        return None


def test_incidents_published_to_kafka_appear_on_the_desk(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topics = Topics(f"w{uuid.uuid4().hex[:8]}-")
    ensure_topics(kafka_bootstrap, PARTITIONS, topics)
    produce_json(kafka_bootstrap, topics.articles, map(_json, articles()), key=lambda v: v["id"])
    produce_json(kafka_bootstrap, topics.incidents, map(_json, incidents()), key=lambda v: v["id"])
    produce_json(kafka_bootstrap, topics.alerts, map(_json, alerts()), key=lambda v: v["id"])

    port = free_port()
    env = {
        **os.environ,
        "MARSAD_HOME": str(tmp_path / "home"),
        "MARSAD_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "MARSAD_TOPIC_PREFIX": topics.prefix,
        "MARSAD_DATABASE_URL": f"sqlite:///{tmp_path / 'desk.db'}",
        "MARSAD_WEB_LISTEN": f"127.0.0.1:{port}",
        "PYTHONPATH": str(ROOT),
    }
    store = _start("store", env, tmp_path / "store.log")
    web = _start("web", env, tmp_path / "web.log")
    base = f"http://127.0.0.1:{port}"

    def listed() -> set[str] | None:
        response = _get(base + "/api/incidents?since=2026-03-01")
        if response is None or response.status_code != 200:
            return None
        return {i["id"] for i in response.json()["incidents"]}

    try:
        wait_until(
            lambda: store.poll() is None and web.poll() is None and listed() == CURRENT,
            timeout=120,
            message=f"the desk listing what was published (logs in {tmp_path})",
            interval=0.5,
        )
        page = httpx.get(base + "/?since=2026-03-01", timeout=10).text
        assert set(re.findall(r'class="marker [^"]*" data-id="([^"]+)"', page)) == CURRENT
        # the revisions arrive in any order across partitions; the page shows them all
        wait_until(
            lambda: len(re.findall(r"<tr data-revision=", _text(base + "/incidents/inc-dy"))) == 2,
            timeout=30,
            message="both revisions of inc-dy",
        )
        detail = httpx.get(base + "/api/incidents/inc-dy", timeout=10).json()
        assert detail["current"]["killed"] == 14
        assert [a["id"] for a in detail["alerts"]] == ["alert-dy"]
        twin = _text(base + "/incidents/inc-twin")
        assert 'merged into <a href="/incidents/inc-hl">' in twin
    finally:
        for proc in (web, store):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(timeout=60) for proc in (web, store)]
    assert codes == [0, 0], (tmp_path / "web.log").read_text("utf-8", "replace")


def _text(url: str) -> str:
    response = _get(url)
    return response.text if response is not None else ""
