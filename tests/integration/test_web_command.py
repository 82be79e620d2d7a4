"""``marsad web`` as a real process: serves the store named by MARSAD_DATABASE_URL on
MARSAD_WEB_LISTEN, and stops cleanly (exit 0) on SIGTERM, as ``marsad up`` and docker stop it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from desk.web.cli import split_listen, web_cmd
from marsad.errors import ConfigError
from tests.support.web_desk import CURRENT, sample_store

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
MARSAD = str(Path(sys.executable).with_name("marsad"))


def _env(tmp_path: Path, listen: str) -> dict[str, str]:
    sample_store(tmp_path).dispose()
    env = dict(os.environ)
    env.update(
        MARSAD_DATABASE_URL=f"sqlite:///{tmp_path / 'desk.db'}",
        MARSAD_WEB_LISTEN=listen,
        MARSAD_HOME=str(tmp_path / "home"),
        # the checkout first: an editable install made before a package existed lacks it
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    )
    return env


def test_serves_the_store_and_stops_on_sigterm(tmp_path: Path) -> None:
    from tests.support.web_desk import free_port

    port = free_port()
    proc = subprocess.Popen(
        [MARSAD, "web"],
        cwd=ROOT,
        env=_env(tmp_path, f"127.0.0.1:{port}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "marsad web did not answer"
            time.sleep(0.2)
        body = httpx.get(base + "/api/incidents?since=2026-03-01", timeout=10).json()
        assert {i["id"] for i in body["incidents"]} == CURRENT
        assert httpx.get(base + "/", timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "serving http://127.0.0.1" in out


def test_check_validates_the_store_and_the_rules(tmp_path: Path) -> None:
    env = _env(tmp_path, "127.0.0.1:0")
    runner = CliRunner()
    ok = runner.invoke(web_cmd, ["--check", "--database", env["MARSAD_DATABASE_URL"]])
    assert ok.exit_code == 0, ok.output
    assert "configuration OK" in ok.output
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - name: x\n    kind: window\n    window: {size: soon}\n", "utf-8")
    failed = runner.invoke(
        web_cmd, ["--check", "--database", env["MARSAD_DATABASE_URL"], "--rules", str(bad)]
    )
    assert failed.exit_code == 2
    assert "rules.yaml:4" in failed.output and "window.size" in failed.output


def test_listen_addresses() -> None:
    assert split_listen("0.0.0.0:8080") == ("0.0.0.0", 8080)
    assert split_listen("[::1]:9000") == ("::1", 9000)
    assert split_listen(":8080") == ("127.0.0.1", 8080)
    with pytest.raises(ConfigError):
        split_listen("localhost")
