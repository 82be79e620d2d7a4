"""Composition root of the alerts room: settings → routing, sink, ledger → dispatcher → loop.

Why one place: ``marsad alerts`` (Kafka), ``marsad replay`` (a list of alerts) and the tests
all need the same wiring, and a reader changing it should find it here and nowhere else.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from alerts import routing
from alerts.delivery import Sink, make_sink
from alerts.digest.scheduler import digests_beside
from alerts.dispatch import Dispatcher, Result
from alerts.ledger import Ledger
from alerts.notifier import Gate, Notifier, Observer, Stats
from marsad.kafka.clients import close_clients, committing_consumer, dlq_producer
from marsad.records import Alert
from marsad.settings import Settings
from marsad.topics import Topics, dlq

if TYPE_CHECKING:
    from alerts.interactive.gate import DeskGate
    from alerts.interactive.service import Interactivity

log = logging.getLogger(__name__)

LEDGER_FILE = "alerts-ledger.sqlite"


def routing_path(settings: Settings) -> Path:
    return settings.config_dir / "routing.yaml"


def build_sink(settings: Settings, stream: TextIO | None = None) -> Sink:
    return make_sink(
        bot_token=settings.slack_bot_token,
        api_url=settings.slack_api_url,
        webhook_url=settings.slack_webhook_url,
        jsonl=settings.alerts_jsonl,
        stream=stream,
    )


def build_dispatcher(
    settings: Settings,
    routing_file: Path | None = None,
    sink: Sink | None = None,
) -> Dispatcher:
    """Raises :class:`alerts.routing.RoutingError` for a bad routing file."""
    config = routing.load(routing_file or routing_path(settings))
    ledger = Ledger(settings.home / LEDGER_FILE)
    return Dispatcher(ledger, sink or build_sink(settings), config, public_url=settings.public_url)


def deliver_all(alerts: Iterable[Alert], settings: Settings) -> list[Result]:
    """Deliver alerts without Kafka (``marsad replay``): same ledger, same no-duplicate rule.

    Raises the first Transient/PermanentDeliveryError; what was delivered stays recorded.
    """
    dispatcher = build_dispatcher(settings)
    try:
        return [dispatcher.deliver(alert) for alert in alerts]
    finally:
        dispatcher.ledger.close()


def run_notifier(
    dispatcher: Dispatcher,
    bootstrap: str,
    stop: threading.Event,
    *,
    topics: Topics,
    group_id: str | None = None,
    max_idle_s: float | None = None,
    observer: Observer | None = None,
    gate: Gate | None = None,
) -> Stats:
    """Consume ``topics.alerts`` with manual commits until ``stop`` (or idle); close cleanly
    (in this thread, after the loop: see :func:`marsad.kafka.clients.close_clients`).

    ``group_id`` defaults to the namespace's notifier group; ``observer`` (the notifier's
    metrics, ``alerts.health``) watches the loop; ``gate`` (the desk's mutes,
    :func:`build_interactivity`) may hold alerts back."""
    consumer = committing_consumer(
        topics.alerts,
        bootstrap=bootstrap,
        group_id=group_id or topics.alerts_group,
        client_id="marsad-alerts",
        max_poll_records=50,
    )
    producer = None
    try:
        producer = dlq_producer(bootstrap, "marsad-alerts-dlq")
        notifier = Notifier(
            dispatcher,
            consumer,
            producer,
            dlq_topic=dlq(topics.alerts),
            observer=observer,
            gate=gate,
        )
        # The daily digest's scheduler, when routing names digest channels (alerts.digest).
        with digests_beside(dispatcher, bootstrap, stop, topics=topics):
            return notifier.run(stop, max_idle_s=max_idle_s)
    finally:
        close_clients(consumer, producer)


def build_interactivity(
    settings: Settings, dispatcher: Dispatcher
) -> tuple[Interactivity, DeskGate] | None:
    """Socket Mode beside the notifier when ``SLACK_APP_TOKEN`` is set (else None): the
    dispatcher's messages get the desk's status and buttons, and the gate holds muted alerts
    back. Raises :class:`alerts.interactive.service.InteractivityError` without a bot token."""
    if not settings.slack_app_token:
        return None
    from alerts.interactive.actions import ACTIONS_FILE, ActionStore
    from alerts.interactive.gate import DeskGate
    from alerts.interactive.service import Interactivity

    store = ActionStore(settings.home / ACTIONS_FILE)
    gate = DeskGate(store)
    interactivity = Interactivity(
        app_token=settings.slack_app_token,
        bot_token=settings.slack_bot_token,
        api_url=settings.slack_api_url,
        ledger_path=dispatcher.ledger.path,
        store=store,
        channels=dispatcher.routing.channels(),
        render=dispatcher.render,
    )
    dispatcher.desk = gate.desk
    return interactivity, gate
