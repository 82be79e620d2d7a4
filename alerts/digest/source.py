"""Where the digest's incidents and the desk's feedback come from.

Why protocols: the alerts room may import only the kernel, so it cannot read the desk's
database; the incidents topic is what every deployment has. :class:`IncidentSource` is the
one question the digest asks ("the incidents known between these two instants"), so a
store-backed source can be plugged in from the top floor (``control/``) where a store runs,
without this room knowing it. :class:`FeedbackSource` is the same for the desk's mutes and
corrections (Slack's buttons keep them in the action store).

:class:`KafkaIncidentSource` reads the ``incidents`` topic without a consumer group (nothing
is committed, no other reader is disturbed): each partition from the first record written at
or after ``since`` (the broker's time index) up to its end offset as of the start of the read,
leaving out records written after ``until`` (so a preview of a past morning shows what was
known then). It returns every revision it read; the builder keeps the latest per id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from alerts.digest.build import Correction
from marsad.errors import MarsadError
from marsad.records import RecordError, StoredIncident

log = logging.getLogger(__name__)


class DigestSourceError(MarsadError):
    """The incidents could not be read (the broker out of reach, a file missing): the digest
    is not posted, and the scheduler tries again."""


class IncidentSource(Protocol):
    def incidents(self, since: datetime, until: datetime) -> Sequence[StoredIncident]:
        """Incidents (any of their revisions) written or revised between ``since`` and
        ``until``."""
        ...


@runtime_checkable
class Coverage(Protocol):
    """A source that may hold less than it is asked for says so after each read."""

    #: after :meth:`IncidentSource.incidents`: the oldest time held, when after ``since``
    held_from: datetime | None


class FeedbackSource(Protocol):
    def muted_count(self, since: datetime, until: datetime) -> int:
        """Alerts not pinged because a mute covered them, in the period."""
        ...

    def corrections(self, since: datetime, until: datetime) -> Sequence[Correction]:
        """Analysts' corrections made in the period."""
        ...


class NoFeedback:
    """Where no action store runs (no Socket Mode): nothing muted, nothing corrected."""

    def muted_count(self, since: datetime, until: datetime) -> int:
        return 0

    def corrections(self, since: datetime, until: datetime) -> Sequence[Correction]:
        return []


class ActionStoreFeedback:
    """The desk's action store in ``home`` (``alerts.interactive.actions``: what Slack's
    buttons recorded), opened for each question and closed after it: the digest asks once a
    day, and the store may be created after the notifier started. No store file: nothing
    muted, nothing corrected (and a preview creates none)."""

    def __init__(self, home: Path) -> None:
        from alerts.interactive.actions import ACTIONS_FILE

        self.path = home / ACTIONS_FILE

    def muted_count(self, since: datetime, until: datetime) -> int:
        from alerts.interactive.actions import ActionStore

        if not self.path.exists():
            return 0
        with ActionStore(self.path) as store:
            return store.muted_count(since, until)

    def corrections(self, since: datetime, until: datetime) -> Sequence[Correction]:
        from alerts.interactive.actions import ActionStore

        if not self.path.exists():
            return []
        with ActionStore(self.path) as store:
            return store.corrections(since, until)


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


class KafkaIncidentSource:
    """The ``incidents`` topic, read from ``since`` (see the module docstring)."""

    def __init__(self, bootstrap: str, topic: str, timeout_s: float = 60.0) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.timeout_s = timeout_s
        self.held_from: datetime | None = None

    def incidents(self, since: datetime, until: datetime) -> list[StoredIncident]:
        from kafka import KafkaConsumer
        from kafka.errors import KafkaError

        from marsad.kafka.clients import close_clients

        try:
            consumer = KafkaConsumer(
                bootstrap_servers=self.bootstrap,
                group_id=None,
                client_id="marsad-digest",
                enable_auto_commit=False,
                request_timeout_ms=30_000,
            )
        except KafkaError as exc:
            raise DigestSourceError(f"reading {self.topic}: {exc}") from exc
        try:
            return self._read(consumer, since, until)
        except KafkaError as exc:
            raise DigestSourceError(f"reading {self.topic}: {exc}") from exc
        finally:
            close_clients(consumer, None)

    def _read(self, consumer: Any, since: datetime, until: datetime) -> list[StoredIncident]:
        from kafka import TopicPartition

        deadline = time.monotonic() + self.timeout_s
        partitions = consumer.partitions_for_topic(self.topic)
        while not partitions and time.monotonic() < deadline:
            time.sleep(0.2)  # the first metadata answer may not list the topic yet
            partitions = consumer.partitions_for_topic(self.topic)
        if not partitions:
            raise DigestSourceError(f"topic {self.topic} not found on {self.bootstrap}")
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        ends: dict[Any, int] = consumer.end_offsets(tps)
        firsts: dict[Any, int] = consumer.beginning_offsets(tps)
        since_ms, until_ms = _ms(since), _ms(until)
        starts = consumer.offsets_for_times({tp: since_ms for tp in tps})
        # A partition whose first record still held is already past ``since``, while older
        # ones were deleted (retention), holds less than asked: say from when it holds.
        short = set()
        # "No record at or after since" is checked against the partition's newest record:
        # the broker answers so when the log starts inside a batch (records deleted by
        # DeleteRecords) although newer records are there.
        probed = set()
        for tp in tps:
            found = starts.get(tp)
            if found is not None:
                consumer.seek(tp, found.offset)
                if firsts[tp] > 0 and found.offset == firsts[tp]:
                    short.add(tp)
            elif ends[tp] > firsts[tp]:
                consumer.seek(tp, ends[tp] - 1)
                probed.add(tp)
            else:
                consumer.seek(tp, ends[tp])
        held: list[int] = []
        out: list[StoredIncident] = []
        unreadable = 0
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise DigestSourceError(
                    f"reading {self.topic}: not at its end after {self.timeout_s:.0f} s"
                )
            for tp, records in consumer.poll(timeout_ms=500).items():
                if tp in probed:
                    probed.discard(tp)
                    newest = next((r for r in records if r.offset == ends[tp] - 1), None)
                    if newest is None or newest.timestamp < since_ms:
                        continue  # indeed nothing since ``since``: the partition is done
                    consumer.seek(tp, firsts[tp])  # read it all; the builder picks the days
                    if firsts[tp] > 0:
                        short.add(tp)
                    continue
                for record in records:
                    if tp in short and record.offset == firsts[tp] and record.timestamp > since_ms:
                        held.append(record.timestamp)
                    if record.offset >= ends[tp] or record.timestamp > until_ms:
                        continue
                    try:
                        out.append(StoredIncident.from_json(record.value or b""))
                    except RecordError:
                        unreadable += 1
        self.held_from = datetime.fromtimestamp(max(held) / 1000, UTC) if held else None
        if unreadable:
            log.warning("digest: %d unreadable records on %s left out", unreadable, self.topic)
        log.info("digest: %d incident revisions read from %s", len(out), self.topic)
        return out


class JsonlIncidentSource:
    """Incidents from a JSON Lines file, one :class:`StoredIncident` a line (previews, tests,
    or a dump of the topic); every line is returned, the builder picks the period."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def incidents(self, since: datetime, until: datetime) -> list[StoredIncident]:
        try:
            lines = self.path.read_text("utf-8").splitlines()
        except OSError as exc:
            raise DigestSourceError(f"{self.path}: {exc.strerror or exc}") from exc
        out = []
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                out.append(StoredIncident.from_json(line))
            except RecordError as exc:
                raise DigestSourceError(f"{self.path}:{n}: {exc}") from exc
        return out
