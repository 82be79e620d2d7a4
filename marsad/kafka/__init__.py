"""Embedded local Apache Kafka 3.9.1 broker (KRaft, single node) run from Maven Central jars.

Public surface: ``LocalBroker`` (start/stop/status a broker in a data dir),
``ensure_local_broker`` (what ``marsad up/run/replay/demo`` call), ``fetch_jars`` and the errors.
"""

from marsad.kafka.broker import BrokerStatus, LocalBroker, ensure_local_broker, metadata_ok
from marsad.kafka.errors import (
    BrokerError,
    BrokerStartError,
    JarFetchError,
    JavaNotFoundError,
    PortInUseError,
)
from marsad.kafka.jars import KAFKA_VERSION, fetch_jars

__all__ = [
    "KAFKA_VERSION",
    "BrokerError",
    "BrokerStartError",
    "BrokerStatus",
    "JarFetchError",
    "JavaNotFoundError",
    "LocalBroker",
    "PortInUseError",
    "ensure_local_broker",
    "fetch_jars",
    "metadata_ok",
]
