"""The Socket Mode listener: acknowledge every envelope, check the interaction, act, answer.

What each interaction does:

* **Acknowledge** stores who and when (the first stands) and edits the alert's message in
  place (``chat.update`` of the channel and ``ts`` the delivery ledger holds);
* a **Mute…** choice stores the mute (this rule × the governorate or side × the duration),
  edits the message to show it and answers the user ephemerally;
* **Wrong toll / Not an incident / Duplicate of…** open the correction modal
  (``views.open``); its submission is validated (errors are shown in the modal), stored with
  the incident and its articles, and shown on the message;
* ``/marsad mutes`` lists the active mutes, each with a **Lift** button (ephemeral).

Every envelope is acknowledged first — before any Web API call — except a modal's
submission, whose acknowledgement carries the validation errors and so waits for the (local,
quick) check. Nothing raises out of the listener: a failed Web API call is logged, and what
was stored stays stored (the next edit of the message shows it).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web import WebClient

from alerts.blocks import SlackMessage
from alerts.interactive import guard, ids, payloads, status, views
from alerts.interactive.actions import ActionStore, Correction
from alerts.interactive.guard import Refusal
from alerts.interactive.payloads import Click, Command, Origin, Submission
from alerts.interactive.words import durations, word
from alerts.ledger import Entry, Ledger
from marsad.records import Alert

log = logging.getLogger(__name__)

#: modal submissions remembered, so a redelivered envelope does not store a correction twice
SEEN_VIEWS = 1000


def _now() -> datetime:
    return datetime.now(UTC)


class DeskHandler:
    """A ``socket_mode_request_listeners`` entry (called on the client's worker threads)."""

    def __init__(
        self,
        web: WebClient,
        store: ActionStore,
        ledger: Ledger,
        *,
        channels: guard.Channels,
        identity: guard.Identity,
        render: Callable[[Alert], SlackMessage],
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.web = web
        self.store = store
        self.ledger = ledger
        self.channels = channels
        self.identity = identity
        self.render = render
        self.clock = clock
        self._seen_views: deque[str] = deque(maxlen=SEEN_VIEWS)
        # The client's worker threads share this ledger connection: one reader at a time.
        self._ledger_lock = threading.Lock()

    def _latest(self, alert_id: str) -> Entry | None:
        with self._ledger_lock:
            return self.ledger.latest_delivered(alert_id)

    # -- the envelope -----------------------------------------------------------------------
    def __call__(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        try:
            interaction = payloads.parse(req.type, req.payload)
        except payloads.BadPayload as exc:
            self._ack(client, req)
            if req.type in ("interactive", "slash_commands"):
                log.warning("envelope %s (%s) dropped: %s", req.envelope_id, req.type, exc)
            return
        if isinstance(interaction, Submission):
            answer, then = self._submission(interaction)
            self._ack(client, req, answer)
            if then is not None:
                then()
            return
        self._ack(client, req)
        if isinstance(interaction, Click):
            self._click(interaction)
        else:
            self._command(interaction)

    @staticmethod
    def _ack(
        client: BaseSocketModeClient, req: SocketModeRequest, payload: dict[str, Any] | None = None
    ) -> None:
        try:
            client.send_socket_mode_response(
                SocketModeResponse(envelope_id=req.envelope_id, payload=payload)
            )
        except Exception as exc:  # the socket dropped: Slack sends the envelope again
            log.warning("could not acknowledge envelope %s: %s", req.envelope_id, exc)

    # -- checks -----------------------------------------------------------------------------
    def _refuse(self, refusal: Refusal, origin: Origin, what: str) -> None:
        """Log, and tell the user ephemerally (not a foreign payload: nobody of ours sent it)."""
        level = logging.INFO if refusal is Refusal.EXPIRED else logging.WARNING
        log.log(
            level,
            "refused (%s) %s from user %s in channel %s (team %s, app %s)",
            refusal,
            what,
            origin.user,
            origin.channel_id or "?",
            origin.team_id or "?",
            origin.app_id or "?",
        )
        if refusal is not Refusal.FOREIGN:
            self._tell(origin, word(f"refusals.{refusal}"))

    def _checked(
        self, origin: Origin, ref: ids.AlertRef, message_ts: str | None, what: str
    ) -> tuple[Alert, str, str] | Refusal:
        """The alert and its message (channel, ts), or why not (already logged and told)."""
        refusal = guard.origin(origin, self.identity)
        entry = self._latest(ref.alert_id)
        delivered = (entry.channel, entry.ts) if entry and entry.channel and entry.ts else None
        if refusal is None and not self.channels.allows(
            origin.channel_id, origin.channel_name, also=delivered[0] if delivered else None
        ):
            refusal = Refusal.CHANNEL
        alert = self.store.alert(ref.alert_id)
        if refusal is None:
            refusal = guard.alert(
                channel_id=origin.channel_id,
                message_ts=message_ts,
                delivered=delivered,
                remembered=alert is not None,
            )
        if refusal is not None:
            self._refuse(refusal, origin, f"{what} on alert {ref.alert_id!r:.120}")
            return refusal
        assert alert is not None and delivered is not None and entry is not None
        # The revision the message shows (a later one may be held back by a mute).
        shown = self.store.alert(ref.alert_id, entry.revision) or alert
        return shown, delivered[0], delivered[1]

    # -- clicks -----------------------------------------------------------------------------
    def _click(self, click: Click) -> None:
        if click.action_id == ids.LIFT:
            self._lift(click)
            return
        assert click.ref is not None
        checked = self._checked(click.origin, click.ref, click.message_ts, click.action_id)
        if isinstance(checked, Refusal):
            return
        alert, channel, ts = checked
        now = self.clock()
        if click.action_id == ids.ACK:
            before = self.store.acknowledgement(alert.id)
            ack = self.store.acknowledge(alert.id, click.origin.user, now)
            log.info("alert %s acknowledged by %s", alert.id, ack.user)
            if before is not None and before.user != click.origin.user:
                self._tell(
                    click.origin,
                    word(
                        "answers.acknowledged_already",
                        user=f"<@{ack.user}>",
                        at=status.when(ack.at),
                    ),
                )
            self.refresh(alert.id)
        elif click.action_id == ids.MUTE:
            self._mute(click, alert, now)
        else:
            kind = ids.CORRECTIONS[click.action_id]
            view = views.correction_modal(kind, alert, channel, ts)
            self._call("views.open", self.web.views_open, trigger_id=click.trigger_id, view=view)

    def _mute(self, click: Click, alert: Alert, now: datetime) -> None:
        choice = click.choice
        assert choice is not None
        if choice.value not in ids.scope_values(alert)[choice.scope]:
            self._refuse(Refusal.FORGED, click.origin, f"mute {choice} on alert {alert.id!r}")
            return
        _label, hours = durations()[choice.duration]
        mute = self.store.mute(
            alert.rule,
            choice.scope,
            choice.value,
            now + timedelta(hours=hours),
            click.origin.user,
            now,
            origin=alert.id,
        )
        log.info(
            "mute %d: %s for %s %s until %s, by %s",
            mute.id,
            mute.rule,
            mute.scope,
            mute.value,
            mute.until.isoformat(),
            mute.by,
        )
        self.refresh(alert.id)
        self._tell(
            click.origin,
            word(
                "answers.muted",
                rule=f"`{mute.rule}`",
                target=status.target(mute),
                until=status.when(mute.until),
            ),
        )

    def _lift(self, click: Click) -> None:
        refusal = guard.origin(click.origin, self.identity)
        if refusal is None and not self.channels.allows(
            click.origin.channel_id, click.origin.channel_name
        ):
            refusal = Refusal.CHANNEL
        if refusal is not None:
            self._refuse(refusal, click.origin, f"lifting mute {click.mute_id}")
            return
        assert click.mute_id is not None
        mute = self.store.get_mute(click.mute_id)
        if mute is None or not self.store.lift(click.mute_id, click.origin.user, self.clock()):
            self._tell(click.origin, word("answers.not_lifted"))
            return
        log.info("mute %d lifted by %s", mute.id, click.origin.user)
        self._tell(
            click.origin,
            word("answers.lifted", rule=f"`{mute.rule}`", target=status.target(mute)),
        )
        if mute.origin:
            self.refresh(mute.origin)

    # -- the modal --------------------------------------------------------------------------
    def _submission(
        self, sub: Submission
    ) -> tuple[dict[str, Any] | None, Callable[[], None] | None]:
        """The acknowledgement's payload (errors keep the modal open) and what to do after."""
        checked = self._checked(sub.origin, sub.ref, sub.message_ts, f"correction {sub.kind}")
        if isinstance(checked, Refusal):
            text = word(f"refusals.{checked}")
            return {"response_action": "errors", "errors": {payloads.NOTE: text}}, None
        alert = checked[0]
        known = None
        if sub.kind == "duplicate" and sub.other:
            known = self.store.alert(sub.other) is not None or self._latest(sub.other) is not None
        figures = views.check_submission(sub, known)
        if figures.errors:
            return {"response_action": "errors", "errors": figures.errors}, None
        if sub.view_id and sub.view_id in self._seen_views:
            log.info("modal %s submitted again (a redelivered envelope): ignored", sub.view_id)
            return None, None
        if sub.view_id:
            self._seen_views.append(sub.view_id)
        inc = alert.incident
        correction = Correction(
            alert_id=alert.id,
            incident_id=inc.id if inc else (alert.incident_ids[0] if alert.incident_ids else None),
            article_ids=tuple(inc.article_ids) if inc else (),
            kind=sub.kind,
            killed=figures.killed,
            injured=figures.injured,
            duplicate_of=figures.other,
            user=sub.origin.user,
            at=self.clock(),
            note=sub.note[: views.NOTE_MAX],
        )

        def store_and_show() -> None:
            self.store.add_correction(correction)
            log.info("alert %s corrected (%s) by %s", alert.id, sub.kind, sub.origin.user)
            self.refresh(alert.id)

        return None, store_and_show

    # -- the slash command ------------------------------------------------------------------
    def _command(self, cmd: Command) -> None:
        refusal = guard.origin(cmd.origin, self.identity)
        if refusal is None and not self.channels.allows(
            cmd.origin.channel_id, cmd.origin.channel_name
        ):
            refusal = Refusal.CHANNEL
        if refusal is not None:
            self._refuse(refusal, cmd.origin, f"{cmd.command} {cmd.text!r:.40}")
            return
        if cmd.text.split()[:1] != ["mutes"]:
            self._tell(cmd.origin, word("answers.unknown_command"))
            return
        text, blocks = views.mutes_message(self.store.active_mutes(self.clock()))
        self._tell(cmd.origin, text, blocks)

    # -- Web API ----------------------------------------------------------------------------
    def refresh(self, alert_id: str) -> bool:
        """Edit the alert's message to show what is stored now — the revision the message
        shows (a muted later one is not slipped in); False when it cannot be."""
        entry = self._latest(alert_id)
        if entry is None or not entry.channel or not entry.ts:
            return False
        alert = self.store.alert(alert_id, entry.revision) or self.store.alert(alert_id)
        if alert is None:
            return False
        message = self.render(alert)
        return self._call(
            "chat.update",
            self.web.chat_update,
            channel=entry.channel,
            ts=entry.ts,
            text=message.text,
            blocks=message.blocks,
            metadata=message.metadata,
        )

    def _tell(self, origin: Origin, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        if not origin.channel_id:
            return
        self._call(
            "chat.postEphemeral",
            self.web.chat_postEphemeral,
            channel=origin.channel_id,
            user=origin.user,
            text=text,
            blocks=blocks,
        )

    @staticmethod
    def _call(what: str, method: Callable[..., Any], **kwargs: Any) -> bool:
        try:
            method(**kwargs)
        except SlackApiError as exc:
            log.warning("%s failed: %s", what, exc.response.get("error", exc))
            return False
        except SlackClientError as exc:
            log.warning("%s failed: %s", what, exc)
            return False
        except OSError as exc:
            log.warning("%s failed: %s", what, exc)
            return False
        return True
