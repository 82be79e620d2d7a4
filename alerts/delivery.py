"""Where rendered messages go: a Slack bot (Web API), an incoming webhook, or the console.

Why three sinks behind one small interface: teams without a bot token still get alerts
(webhook), and a laptop without Slack still sees them (console + JSONL).  The notifier
decides *what* to send; a sink only knows *how*, and translates its failures into two
kinds the notifier acts on:

* :class:`TransientDeliveryError` — try again later (rate limit still hit after slack-sdk's
  own retries, 5xx, connection refused).  The Kafka offset is not committed.
* :class:`PermanentDeliveryError` — retrying cannot help (``invalid_auth``,
  ``channel_not_found``…).  The alert is parked on the dead-letter topic.

Both are :class:`DeliveryError`, of the project's one error family (:mod:`marsad.errors`).

Each sink also names where its messages land, :meth:`Sink.destination`, which is what the
ledger keys deliveries by (an alert is delivered once *per destination*): the bot's Slack
workspace (team id, from ``auth.test``) and channel, the webhook URL's hash (the URL itself is
a secret and is never stored), the console's JSONL file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from alerts.blocks import METADATA_EVENT, SlackMessage, marker
from alerts.ledger import Destination
from marsad.errors import MarsadError

log = logging.getLogger(__name__)

#: Slack ``error`` codes after which the same request can succeed later.
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)
#: Errors that mean the token itself is unusable: every later call will fail the same way.
AUTH_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "org_login_required",
    }
)


class DeliveryError(MarsadError):
    """A sink could not deliver a message (a :class:`marsad.errors.MarsadError`)."""


class TransientDeliveryError(DeliveryError):
    """Retry later; nothing is parked or committed."""


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help: park the alert and move on."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


class Sink(Protocol):
    name: str
    #: Can edit a posted message in place (``chat.update``) and thread a reply under it.
    can_update: bool

    def check(self) -> str:
        """Verify credentials at start-up; return a description for the log."""
        ...

    def destination(self, channel: str) -> Destination:
        """Where a message to ``channel`` lands: stable across runs and restarts, the same
        for every sink that reaches the same place. May raise a :class:`DeliveryError`
        (the bot asks Slack which workspace its token belongs to, once)."""
        ...

    def post(self, channel: str, message: SlackMessage, thread_ts: str | None = None) -> Posted: ...

    def update(self, channel: str, ts: str, message: SlackMessage) -> None: ...

    def find(
        self,
        channel: str,
        alert_id: str,
        revision: int,
        part: str,
        since: float,
        thread_ts: str | None = None,
    ) -> Posted | None:
        """Where a message already posted for (alert, revision, part) is: channel id and ``ts``.

        ``None`` means "not found" (so posting is safe).  Sinks that cannot look raise
        :class:`LookupUnsupported`.
        """
        ...


class LookupUnsupported(DeliveryError):
    """The sink cannot tell whether an earlier attempt reached Slack."""


def _matches(msg: dict[str, Any], alert_id: str, revision: int, part: str) -> bool:
    meta = msg.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    if meta.get("event_type") == METADATA_EVENT:
        return bool(
            payload.get("alert_id") == alert_id
            and int(payload.get("revision", -1)) == revision
            and payload.get("part", "message") == part
        )
    # Metadata can be stripped (workspace policy); the fallback text carries a marker too.
    text = str(msg.get("text") or "")
    tag = marker(alert_id, revision).replace("<", "&lt;").replace(">", "&gt;")
    is_reply = bool(msg.get("thread_ts")) and msg.get("thread_ts") != msg.get("ts")
    return tag in text.replace("&amp;", "&") and (is_reply == (part == "reply"))


def _classify(exc: Exception, what: str) -> DeliveryError:
    """Map a slack-sdk failure to transient or permanent, with a message a human can act on."""
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        code = str(exc.response.get("error", "") or f"http_{status}")
        if status == 429 or status >= 500 or code in TRANSIENT_ERRORS:
            return TransientDeliveryError(f"{what}: Slack answered {code} (HTTP {status})")
        hint = ""
        if code in AUTH_ERRORS:
            hint = " — check SLACK_BOT_TOKEN (a bot token xoxb-… with chat:write)"
        elif code in ("channel_not_found", "not_in_channel"):
            hint = " — check config/routing.yaml and invite the bot to the channel"
        elif code == "missing_scope":
            needed = exc.response.get("needed", "")
            hint = f" — the token lacks scope {needed}".rstrip()
        return PermanentDeliveryError(f"{what}: Slack refused with {code}{hint}", code)
    if isinstance(exc, SlackClientError | OSError):
        return TransientDeliveryError(f"{what}: {type(exc).__name__}: {exc}")
    return TransientDeliveryError(f"{what}: unexpected {type(exc).__name__}: {exc}")


def retry_handlers(max_retries: int = 5) -> list[Any]:
    """slack-sdk's own handlers: 429 honours Retry-After; 5xx and dropped connections back off."""
    return [
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries),
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
    ]


class SlackBotSink:
    """The full experience: routed channels, in-place edits, threaded change notes."""

    name = "slack"
    can_update = True

    def __init__(self, token: str, base_url: str, timeout: int = 30, max_retries: int = 5) -> None:
        if not base_url.endswith("/"):
            base_url += "/"
        self.base_url = base_url
        self.client = WebClient(
            token=token,
            base_url=base_url,
            timeout=timeout,
            retry_handlers=retry_handlers(max_retries),
        )
        self._channel_ids: dict[str, str] = {}
        self._team_id: str | None = None

    def _auth_test(self) -> Any:
        try:
            resp = self.client.auth_test()
        except Exception as exc:
            raise _classify(exc, "auth.test") from exc
        self._team_id = str(resp.get("team_id") or "") or None
        return resp

    def check(self) -> str:
        resp = self._auth_test()
        who = f"{resp.get('user', '?')} in team {resp.get('team', '?')}"
        return f"Slack bot {who} ({self.base_url})"

    def destination(self, channel: str) -> Destination:
        """``slack:<team id>`` and the channel as routed. The team id comes from ``auth.test``
        (made by :meth:`check` at start-up, else once here); a token whose answer has no
        team id is named by a hash of the token instead."""
        if self._team_id is None:
            self._auth_test()
        if self._team_id is None:
            token = self.client.token or ""
            self._team_id = "token-" + hashlib.sha256(token.encode()).hexdigest()[:16]
        return Destination(f"slack:{self._team_id}", channel)

    def post(self, channel: str, message: SlackMessage, thread_ts: str | None = None) -> Posted:
        try:
            resp = self.client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                metadata=message.metadata,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
            )
        except Exception as exc:
            raise _classify(exc, f"chat.postMessage to {channel}") from exc
        posted = Posted(channel=str(resp["channel"]), ts=str(resp["ts"]))
        if channel.startswith("#"):
            self._channel_ids[channel] = posted.channel
        return posted

    def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        try:
            self.client.chat_update(
                channel=channel,
                ts=ts,
                text=message.text,
                blocks=message.blocks,
                metadata=message.metadata,
            )
        except Exception as exc:
            raise _classify(exc, f"chat.update of {channel}/{ts}") from exc

    def _channel_id(self, channel: str) -> str:
        """History needs an id; routes may name channels ``#name`` (resolved once, cached)."""
        if not channel.startswith("#"):
            return channel
        if channel in self._channel_ids:
            return self._channel_ids[channel]
        wanted = channel[1:]
        try:
            for page in self.client.conversations_list(
                types="public_channel,private_channel", exclude_archived=True, limit=200
            ):
                for conv in page.get("channels", []):
                    self._channel_ids["#" + str(conv.get("name"))] = str(conv.get("id"))
                if channel in self._channel_ids:
                    break
        except Exception as exc:
            raise _classify(exc, f"conversations.list looking for {channel}") from exc
        if channel not in self._channel_ids:
            raise PermanentDeliveryError(
                f"channel {channel} not found by conversations.list", "channel_not_found"
            )
        log.debug("resolved %s to %s", wanted, self._channel_ids[channel])
        return self._channel_ids[channel]

    def find(
        self,
        channel: str,
        alert_id: str,
        revision: int,
        part: str,
        since: float,
        thread_ts: str | None = None,
    ) -> Posted | None:
        try:
            channel_id = self._channel_id(channel)
        except PermanentDeliveryError as exc:
            if exc.code != "channel_not_found":
                raise
            return None  # no such channel yet: nothing can have been posted there
        try:
            if thread_ts:
                pages = self.client.conversations_replies(
                    channel=channel_id, ts=thread_ts, include_all_metadata=True, limit=200
                )
            else:
                pages = self.client.conversations_history(
                    channel=channel_id,
                    oldest=f"{since:.6f}",
                    include_all_metadata=True,
                    limit=200,
                )
            for page in pages:
                for msg in page.get("messages", []):
                    if _matches(msg, alert_id, revision, part):
                        return Posted(channel=channel_id, ts=str(msg["ts"]))
        except Exception as exc:
            raise _classify(exc, f"looking up earlier posts in {channel}") from exc
        return None


class WebhookSink:
    """Incoming webhook: one fixed channel, no edits (revisions post a new message)."""

    name = "webhook"
    can_update = False

    def __init__(self, url: str, timeout: int = 30, max_retries: int = 5) -> None:
        self.client = WebhookClient(
            url, timeout=timeout, retry_handlers=retry_handlers(max_retries)
        )
        # The URL is the credential: only a hash of it may be written down.
        self._identity = hashlib.sha256(url.strip().encode()).hexdigest()[:16]

    def destination(self, channel: str) -> Destination:
        """``webhook:<sha-256 of the URL, 16 hex digits>``: a webhook posts to one fixed
        channel, so the routed channel is no part of it."""
        return Destination(f"webhook:{self._identity}")

    def check(self) -> str:
        return "Slack incoming webhook (fixed channel; revisions are posted as new messages)"

    def post(self, channel: str, message: SlackMessage, thread_ts: str | None = None) -> Posted:
        try:
            resp = self.client.send(
                text=message.text,
                blocks=message.blocks,
                metadata=message.metadata,
                unfurl_links=False,
                unfurl_media=False,
            )
        except Exception as exc:
            raise _classify(exc, "incoming webhook") from exc
        if resp.status_code == 200:
            return Posted(channel="webhook", ts="")
        what = f"incoming webhook answered HTTP {resp.status_code} {resp.body!r}"
        if resp.status_code == 429 or resp.status_code >= 500:
            raise TransientDeliveryError(what)
        raise PermanentDeliveryError(what + " — check SLACK_WEBHOOK_URL", str(resp.body))

    def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        raise PermanentDeliveryError("incoming webhooks cannot edit messages")

    def find(
        self,
        channel: str,
        alert_id: str,
        revision: int,
        part: str,
        since: float,
        thread_ts: str | None = None,
    ) -> Posted | None:
        raise LookupUnsupported("incoming webhooks cannot read the channel back")


class ConsoleSink:
    """No Slack at all: a readable block to the console and one JSON line per message.

    The JSONL file doubles as this sink's memory for the crash check (:meth:`find`).
    """

    name = "console"
    can_update = False

    def __init__(self, jsonl: Path, stream: TextIO | None = None) -> None:
        self.jsonl = jsonl
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def check(self) -> str:
        self.jsonl.parent.mkdir(parents=True, exist_ok=True)
        return f"console + {self.jsonl} (set SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL for Slack)"

    def destination(self, channel: str) -> Destination:
        """``console:<absolute path of the JSONL file>``, the record of what was shown."""
        return Destination(f"console:{self.jsonl.resolve()}")

    def post(self, channel: str, message: SlackMessage, thread_ts: str | None = None) -> Posted:
        line = json.dumps(
            {"channel": channel, "thread_ts": thread_ts, **message.as_payload()},
            ensure_ascii=False,
        )
        with self._lock:
            self.jsonl.parent.mkdir(parents=True, exist_ok=True)
            with self.jsonl.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            self.stream.write(f"── {channel} ──\n{_console_text(message)}\n")
            self.stream.flush()
        return Posted(channel=channel, ts="")

    def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        raise PermanentDeliveryError("the console cannot edit messages")

    def find(
        self,
        channel: str,
        alert_id: str,
        revision: int,
        part: str,
        since: float,
        thread_ts: str | None = None,
    ) -> Posted | None:
        if not self.jsonl.exists():
            return None
        with self.jsonl.open(encoding="utf-8") as fh:
            for raw in fh:
                try:
                    msg = json.loads(raw)
                except json.JSONDecodeError:
                    continue  # a torn last line from a crash mid-write
                if _matches(msg, alert_id, revision, part):
                    return Posted(channel=channel, ts="")
        return None


def _console_text(message: SlackMessage) -> str:
    """Blocks flattened to lines: header, section text, fields, context."""
    lines: list[str] = []
    for block in message.blocks:
        if "text" in block and isinstance(block["text"], dict):
            lines.append(block["text"]["text"])
        for field in block.get("fields", []):
            lines.append(field["text"])
        for element in block.get("elements", []):
            lines.append(element.get("text", ""))
    return "\n".join(lines)


def make_sink(
    *, bot_token: str, api_url: str, webhook_url: str, jsonl: Path, stream: TextIO | None = None
) -> Sink:
    """Bot token first (full features), then webhook, then console."""
    if bot_token:
        return SlackBotSink(bot_token, api_url)
    if webhook_url:
        return WebhookSink(webhook_url)
    return ConsoleSink(jsonl, stream)
