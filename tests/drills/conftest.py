"""Fixtures of the drill suite: a broker of the drill's own, for drills that stop or kill it.

Drills that only crash Marsad's own processes (or Slack) run on the session broker
(``kafka_bootstrap``) under their own topic prefix; drills that stop, kill or break the broker
get a LocalBroker of their own on free ports, so no other test loses its broker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.drills.harness import own_broker


@pytest.fixture
def drill_broker(tmp_path: Path) -> Iterator[object]:
    """A started LocalBroker in ``tmp_path/kafka``; stopped at the end whatever happened."""
    if os.environ.get("MARSAD_TEST_BOOTSTRAP", "").strip():
        pytest.skip("MARSAD_TEST_BOOTSTRAP is set: this drill needs a broker it may stop")
    broker = own_broker(tmp_path / "kafka")
    try:
        yield broker
    finally:
        broker.stop(timeout=30)
