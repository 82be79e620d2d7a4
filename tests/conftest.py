"""Shared fixtures: a real Kafka broker for integration and e2e tests.

The broker starts lazily (only when a test asks for ``kafka_bootstrap`` or ``kafka_broker``),
once per session, on free ports in a temporary directory, and is stopped at session end.
Set ``MARSAD_TEST_BOOTSTRAP=host:port`` to run against an already running broker instead
(drill tests that need to stop the broker are then skipped).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from marsad.kafka import BrokerStartError, LocalBroker, PortInUseError
from tests.support.kafka_helpers import free_ports

TEST_PARTITIONS = 4
EXTERNAL_ENV = "MARSAD_TEST_BOOTSTRAP"


@pytest.fixture(scope="session")
def _local_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """The session's LocalBroker on free ports in a temp dir; stopped at session end."""
    from marsad.settings import Settings

    broker = None
    for attempt in range(3):  # another process may take a chosen port before the JVM binds
        port, controller_port = free_ports(2)
        broker = LocalBroker(
            tmp_path_factory.mktemp("kafka"),
            port=port,
            controller_port=controller_port,
            cache_dir=Settings().cache_dir,
        )
        try:
            broker.start(timeout=180)
            break
        except PortInUseError:
            if attempt == 2:
                raise
        except BrokerStartError as exc:
            if attempt == 2 or "Address already in use" not in str(exc):
                raise
    assert broker is not None
    try:
        yield broker
    finally:
        broker.stop(timeout=30)


@pytest.fixture(scope="session")
def kafka_bootstrap(request: pytest.FixtureRequest) -> str:
    """``"127.0.0.1:<port>"`` of a real broker holding the contract topics (4 partitions)."""
    from marsad.topics import Topics, ensure_topics

    external = os.environ.get(EXTERNAL_ENV, "").strip()
    if external:
        bootstrap = external
    else:
        broker: LocalBroker = request.getfixturevalue("_local_broker")
        bootstrap = broker.bootstrap
    ensure_topics(bootstrap, TEST_PARTITIONS, Topics())
    return bootstrap


@pytest.fixture
def kafka_broker(request: pytest.FixtureRequest, kafka_bootstrap: str) -> Iterator[LocalBroker]:
    """The session's LocalBroker itself, for drills that stop, kill or restart it.

    ``broker.start()`` after ``stop()``/``kill()`` reuses the same ports and data dir, so
    ``kafka_bootstrap`` stays valid. If a test leaves the broker down, it is started again
    afterwards so later tests still have one.
    """
    if os.environ.get(EXTERNAL_ENV, "").strip():
        pytest.skip(f"{EXTERNAL_ENV} points at an external broker this test cannot control")
    broker: LocalBroker = request.getfixturevalue("_local_broker")
    yield broker
    if not broker.is_running():
        broker.start(timeout=180)
