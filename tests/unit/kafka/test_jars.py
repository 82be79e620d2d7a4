"""Jar fetching with a stand-in ``mvn``: idempotence, completeness checks, clear failures."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from marsad.kafka import jars
from marsad.kafka.errors import JarFetchError

FAKE_MVN = """#!{python}
import pathlib, sys
calls = pathlib.Path({calls!r})
calls.write_text(calls.read_text() + "x" if calls.exists() else "x")
out = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("-DoutputDirectory="))
pathlib.Path(out).mkdir(parents=True, exist_ok=True)
for name in {names!r}:
    (pathlib.Path(out) / name).write_bytes(b"jar")
sys.exit({code})
"""


def _fake_mvn(tmp_path: Path, names: tuple[str, ...] = jars.REQUIRED_JARS, code: int = 0) -> Path:
    script = tmp_path / "mvn"
    script.write_text(
        FAKE_MVN.format(
            python=sys.executable, calls=str(tmp_path / "calls"), names=names, code=code
        )
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def _calls(tmp_path: Path) -> int:
    path = tmp_path / "calls"
    return len(path.read_text()) if path.exists() else 0


def test_fetch_runs_maven_once(tmp_path: Path) -> None:
    mvn = _fake_mvn(tmp_path)
    cache = tmp_path / "cache"
    assert not jars.jars_complete(cache)

    libs = jars.fetch_jars(cache, mvn=str(mvn))
    again = jars.fetch_jars(cache, mvn=str(mvn))

    assert libs == again == cache / "kafka-3.9.1" / "libs"
    assert _calls(tmp_path) == 1
    assert jars.jars_complete(cache)
    assert {p.name for p in libs.iterdir()} == set(jars.REQUIRED_JARS)
    assert not (cache / "kafka-3.9.1" / "libs.partial").exists()


def test_missing_jar_after_marker_triggers_refetch(tmp_path: Path) -> None:
    mvn = _fake_mvn(tmp_path)
    cache = tmp_path / "cache"
    libs = jars.fetch_jars(cache, mvn=str(mvn))
    (libs / jars.REQUIRED_JARS[0]).unlink()

    assert not jars.jars_complete(cache)
    jars.fetch_jars(cache, mvn=str(mvn))
    assert _calls(tmp_path) == 2
    assert jars.jars_complete(cache)


def test_maven_failure_is_reported_and_leaves_no_marker(tmp_path: Path) -> None:
    mvn = _fake_mvn(tmp_path, code=1)
    cache = tmp_path / "cache"
    with pytest.raises(JarFetchError, match="Maven failed \\(exit 1\\)"):
        jars.fetch_jars(cache, mvn=str(mvn))
    assert not jars.jars_complete(cache)


def test_incomplete_download_is_rejected(tmp_path: Path) -> None:
    mvn = _fake_mvn(tmp_path, names=("kafka-clients-3.9.1.jar",))
    with pytest.raises(JarFetchError, match="missing"):
        jars.fetch_jars(tmp_path / "cache", mvn=str(mvn))
    assert not jars.jars_complete(tmp_path / "cache")


def test_no_maven_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(JarFetchError, match="Maven"):
        jars.fetch_jars(tmp_path / "cache")


def test_package_ships_pom_and_log4j() -> None:
    pom = jars.package_file("pom.xml").read_text(encoding="utf-8")
    assert "<artifactId>kafka_2.13</artifactId>" in pom
    assert "<artifactId>slf4j-reload4j</artifactId>" in pom
    assert "<artifactId>reload4j</artifactId>" in pom
    log4j = jars.package_file("log4j.properties").read_text(encoding="utf-8")
    assert "${kafka.logs.dir}/server.log" in log4j
