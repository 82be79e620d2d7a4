"""Slack notifier: Kafka ``alerts`` → Block Kit messages, each revision delivered once.

Public surface: :func:`render` (Alert → message), :func:`deliver_all` (no Kafka, for replay),
:func:`run_notifier` and :func:`build_dispatcher` (the ``marsad alerts`` wiring).
"""

from alerts.blocks import SlackMessage, render
from alerts.service import build_dispatcher, deliver_all, run_notifier

__all__ = ["SlackMessage", "build_dispatcher", "deliver_all", "render", "run_notifier"]
