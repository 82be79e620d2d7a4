"""Test helpers shared by every room: condition waits with deadlines, and JSON in/out of Kafka.

Why here: integration and e2e tests all need "wait until X or fail saying what was missing"
and "read everything on a topic"; one tested version beats five hand-rolled sleeps.
"""

from __future__ import annotations

import json
import random
import socket
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 30.0,
    message: str = "condition not met",
    interval: float = 0.1,
) -> T:
    """Call ``predicate`` until it returns something truthy; return that value.

    Raises ``AssertionError`` with ``message`` (and the last exception raised by the
    predicate, if any) when ``timeout`` seconds pass first. The short pause between calls is
    polling, never synchronisation: the deadline is what decides.
    """
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # keep polling; report it if we time out
            last_exc = exc
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            detail = f"; last error: {last_exc!r}" if last_exc else ""
            raise AssertionError(f"{message} (after {timeout:.1f} s){detail}")
        time.sleep(min(interval, remaining))


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct free ports for servers that bind them a little later (a broker).

    Chosen below the kernel's ephemeral range, so the outgoing connections of other
    processes (every Kafka client on a busy CI box) cannot grab them before the server binds.
    """
    low, _ = _ephemeral_range()
    lo, hi = (20000, low) if low > 21000 else (low - 10000, low)
    rng = random.Random()
    chosen: list[int] = []
    for _ in range(500):
        port = rng.randrange(lo, hi)
        if port in chosen:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        chosen.append(port)
        if len(chosen) == count:
            return chosen
    raise RuntimeError(f"no {count} free ports found in {lo}-{hi}")


def _decode(raw: bytes | None) -> Any:
    """A record's JSON value; what is not JSON (a test sends such bytes to ``articles`` to check
    its DLQ) comes back as ``{"raw": text}``, the dead-letter convention, so readers of a shared
    topic skip it instead of failing on another test's record."""
    if raw is None:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {"raw": raw.decode("utf-8", "replace")}


def produce_json(
    bootstrap: str,
    topic: str,
    values: Iterable[Any],
    key: Callable[[Any], str | None] | None = None,
    timeout: float = 30.0,
) -> int:
    """Send ``values`` as JSON (acks=all, idempotent), flush, and return how many were sent."""
    from kafka import KafkaProducer

    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        value_serializer=lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8"),
        key_serializer=lambda k: None if k is None else k.encode("utf-8"),
    )
    try:
        count = 0
        for value in values:
            producer.send(topic, value=value, key=key(value) if key else None)
            count += 1
        producer.flush(timeout=timeout)
        return count
    finally:
        producer.close(timeout=timeout)


def consume_all(
    bootstrap: str,
    topic: str,
    expected: int | Callable[[list[Any]], bool],
    timeout: float = 30.0,
) -> list[Any]:
    """Read ``topic`` from the beginning until ``expected`` is met; return the JSON values.

    ``expected`` is either a count (stop once at least that many values were read) or a
    predicate over the values read so far. No consumer group is used, so nothing is
    committed and other consumers are not disturbed. Fails with ``AssertionError`` showing
    what *was* read if the deadline passes first.
    """
    from kafka import KafkaConsumer, TopicPartition

    done: Callable[[list[Any]], bool]
    if isinstance(expected, int):
        count = expected
        done = lambda values: len(values) >= count  # noqa: E731
    else:
        done = expected
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        value_deserializer=_decode,
    )
    values: list[Any] = []
    try:
        partitions = wait_until(
            lambda: consumer.partitions_for_topic(topic),
            timeout=min(timeout, 15.0),
            message=f"topic {topic!r} has no partitions on {bootstrap}",
        )
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        consumer.seek_to_beginning()
        deadline = time.monotonic() + timeout
        while not done(values):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                shown = json.dumps(values[-5:], ensure_ascii=False)[:1500]
                raise AssertionError(
                    f"topic {topic!r}: expectation not met after {timeout:.1f} s; read "
                    f"{len(values)} values, last ones: {shown}"
                )
            batch = consumer.poll(timeout_ms=int(min(remaining, 0.5) * 1000))
            for records in batch.values():
                values.extend(r.value for r in records)
        return values
    finally:
        consumer.close()
