"""What the deployment files are checked against: the metric names the code registers.

Collected from the services' own registries (ingest, stream worker, notifier, store), never from a
hand-kept list: a renamed metric makes a dashboard panel or an alert rule that still uses the
old name fail here, not silently show nothing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = shutil.which("docker-compose")
needs_compose = pytest.mark.skipif(
    COMPOSE is None, reason="docker-compose not installed (Debian: apt-get install docker-compose)"
)
#: The one-broker default, and the cluster shape over it.
BASE = ("docker-compose.yml",)
CLUSTER = ("docker-compose.yml", "docker-compose.cluster.yml")


def compose(files: Iterable[str], *command: str) -> subprocess.CompletedProcess[str]:
    """``docker-compose -f … --profile monitoring <command>`` in the checkout (reads files
    only; unset variables such as SLACK_BOT_TOKEN take their defaults)."""
    assert COMPOSE is not None
    args = [COMPOSE, "--project-directory", str(ROOT)]
    for name in files:
        args += ["-f", str(ROOT / name)]
    return subprocess.run(
        [*args, "--profile", "monitoring", *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


def merged_services(files: Iterable[str]) -> dict[str, Any]:
    """The services as compose merges ``files`` (``docker-compose config``)."""
    done = compose(files, "config")
    assert done.returncode == 0, done.stderr
    services: dict[str, Any] = yaml.safe_load(done.stdout)["services"]
    return services


def volume_mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """``(source, target)`` of each of a merged service's volumes (short or long syntax)."""
    mounts = []
    for v in service.get("volumes", []):
        if isinstance(v, dict):
            mounts.append((str(v["source"]), str(v["target"])))
        else:
            source, target = str(v).split(":")[:2]
            mounts.append((source, target))
    return mounts


#: The sample names a family of each type exposes (prometheus_client's text format).
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("_count", "_sum", "_created", ""),
    "info": ("_info",),
    "unknown": ("",),
}

#: ``marsad_…`` identifiers in a PromQL expression.
MARSAD_NAME = re.compile(r"\bmarsad_[a-z0-9_]+\b")


def sample_names(registries: Iterable[CollectorRegistry]) -> set[str]:
    names: set[str] = set()
    for registry in registries:
        for family in registry.collect():
            names.update(family.name + s for s in SUFFIXES[family.type])
    return names


def used_names(expressions: Iterable[str]) -> set[str]:
    return {name for expr in expressions for name in MARSAD_NAME.findall(expr)}


@pytest.fixture(scope="session")
def registered_metrics() -> set[str]:
    from alerts.health import NotifierHealth
    from desk.store.health import StoreHealth
    from ingest.metrics import IngestMetrics
    from stream.health import StreamHealth

    return sample_names(
        [
            IngestMetrics().registry,
            StreamHealth().registry,
            NotifierHealth().registry,
            StoreHealth().registry,
        ]
    )
