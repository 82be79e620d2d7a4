"""Fetch the broker's jars from Maven Central once, into a cache outside git.

Why Maven and not the release tarball: the Apache download site is not always reachable, while
Maven Central (and any mirror set in ``~/.m2/settings.xml``) is. The jar set is the runtime
closure of ``kafka_2.13`` plus the reload4j logging binding the tarball ships (see pom.xml).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from importlib import resources
from pathlib import Path

from marsad.kafka.errors import JarFetchError
from marsad.kafka.locks import file_lock

KAFKA_VERSION = "3.9.1"
#: Jars without which the broker cannot start or log: a fetch that lacks one is incomplete.
REQUIRED_JARS = (
    f"kafka_2.13-{KAFKA_VERSION}.jar",
    f"kafka-clients-{KAFKA_VERSION}.jar",
    "slf4j-reload4j-1.7.36.jar",
    "reload4j-1.2.25.jar",
)
MARKER = "jars.complete"
MAVEN_TIMEOUT_S = 900.0

log = logging.getLogger(__name__)


def kafka_home(cache_dir: Path) -> Path:
    """``<cache>/kafka-3.9.1``: holds ``libs/`` and the completeness marker."""
    return Path(cache_dir).expanduser() / f"kafka-{KAFKA_VERSION}"


def libs_dir(cache_dir: Path) -> Path:
    return kafka_home(cache_dir) / "libs"


def package_file(name: str) -> Path:
    """A data file shipped in this package (pom.xml, log4j.properties)."""
    path = Path(str(resources.files("marsad.kafka").joinpath(name)))
    if not path.is_file():
        raise JarFetchError(f"package data file {name} is missing from {path.parent}")
    return path


def jars_complete(cache_dir: Path) -> bool:
    """True if a previous fetch finished: the marker exists and every jar it lists is present."""
    home = kafka_home(cache_dir)
    marker = home / MARKER
    if not marker.is_file():
        return False
    names = [n for n in marker.read_text(encoding="utf-8").splitlines() if n.strip()]
    libs = home / "libs"
    return bool(names) and all((libs / n).is_file() for n in names)


def fetch_jars(cache_dir: Path, mvn: str | None = None) -> Path:
    """Return the directory of broker jars, running Maven only if no complete fetch exists.

    Idempotent and safe against interruption: Maven writes into a scratch directory that is
    renamed into place only after the required jars are checked, and the marker is written last.
    """
    home = kafka_home(cache_dir)
    libs = home / "libs"
    if jars_complete(cache_dir):
        return libs
    with file_lock(home / ".fetch.lock", timeout=MAVEN_TIMEOUT_S + 60, what="the jar fetch"):
        if jars_complete(cache_dir):  # another process finished while we waited
            return libs
        mvn_cmd = mvn or shutil.which("mvn")
        if not mvn_cmd:
            raise JarFetchError(
                "Maven ('mvn') is not on PATH; it is needed once to fetch the Kafka "
                f"{KAFKA_VERSION} jars into {libs}. Install Maven, or set MARSAD_KAFKA_BOOTSTRAP "
                "to use an existing broker."
            )
        scratch = home / "libs.partial"
        shutil.rmtree(scratch, ignore_errors=True)
        # Work on a copy of the pom so Maven's side files never land in the source tree.
        pom = home / "pom.xml"
        shutil.copyfile(package_file("pom.xml"), pom)
        cmd = [
            mvn_cmd,
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={scratch}",
        ]
        log.info("fetching Kafka %s jars with Maven into %s", KAFKA_VERSION, libs)
        started = time.monotonic()
        try:
            done = subprocess.run(
                cmd, cwd=home, capture_output=True, text=True, timeout=MAVEN_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise JarFetchError(f"Maven did not finish within {MAVEN_TIMEOUT_S:.0f} s") from exc
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise JarFetchError(
                f"Maven failed (exit {done.returncode}) fetching Kafka {KAFKA_VERSION} jars "
                f"from Maven Central:\n{tail}"
            )
        missing = [n for n in REQUIRED_JARS if not (scratch / n).is_file()]
        if missing:
            raise JarFetchError(f"Maven finished but these jars are missing: {missing}")
        shutil.rmtree(libs, ignore_errors=True)
        scratch.rename(libs)
        names = sorted(p.name for p in libs.glob("*.jar"))
        (home / MARKER).write_text("\n".join(names) + "\n", encoding="utf-8")
        log.info("fetched %d jars in %.1f s into %s", len(names), time.monotonic() - started, libs)
        return libs
