"""Socket Mode beside the notifier: one ``marsad alerts`` process delivers and handles clicks.

Why inside ``marsad alerts`` rather than a service of its own: the handler needs exactly what
the notifier has — the bot token, the routing file's channels, the delivery ledger's channel
and ``ts`` of each alert, the action store the notifier remembers alerts in — and the same
message rendering (a click's edit must look like the notifier's). slack-sdk's built-in
:class:`~slack_sdk.socket_mode.SocketModeClient` runs on its own threads (stdlib sockets, no
extra package), so it sits beside the Kafka loop without sharing it; ``marsad up`` and any
deployment of the notifier get the buttons with one more environment variable
(``SLACK_APP_TOKEN``), and stopping the notifier closes the connection.

Start-up: ``auth.test`` with the bot token names the workspace and app every payload must come
from; the app-level token is checked by ``auth.test`` too, so a wrong one stops the command
(exit 1) before anything is consumed, like a wrong bot token. If Slack cannot be reached for
the WebSocket, a thread keeps trying with back-off while the notifier delivers; once connected,
slack-sdk reconnects by itself (a new ``apps.connections.open`` after a drop or a
``disconnect`` message).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.web import WebClient

from alerts.blocks import SlackMessage
from alerts.delivery import AUTH_ERRORS, retry_handlers
from alerts.interactive import guard
from alerts.interactive.actions import ActionStore
from alerts.interactive.handler import DeskHandler
from alerts.ledger import Ledger
from marsad.errors import MarsadError
from marsad.records import Alert

log = logging.getLogger(__name__)

#: a click on an alert remembered longer ago than this answers that it has expired
ALERT_RETENTION = timedelta(days=30)


class InteractivityError(MarsadError):
    """Socket Mode cannot start (a token Slack refuses)."""


class Interactivity:
    """The Socket Mode client and its handler; :meth:`start` then :meth:`close`."""

    def __init__(
        self,
        *,
        app_token: str,
        bot_token: str,
        api_url: str,
        ledger_path: Path,
        store: ActionStore,
        channels: list[str],
        render: Callable[[Alert], SlackMessage],
        reconnect_s: tuple[float, float] = (1.0, 60.0),
        ping_interval_s: float = 5.0,
    ) -> None:
        if not bot_token:
            raise InteractivityError(
                "SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not: the buttons need the bot"
            )
        if not app_token.startswith("xapp-"):
            raise InteractivityError(
                "SLACK_APP_TOKEN must be an app-level token (xapp-…, scope connections:write)"
            )
        if not api_url.endswith("/"):
            api_url += "/"
        self.app_token = app_token
        self.api_url = api_url
        self.web = WebClient(token=bot_token, base_url=api_url, retry_handlers=retry_handlers())
        self.ledger_path = ledger_path
        self.store = store
        self.channels = guard.Channels.of(channels)
        self.render = render
        self.reconnect_min, self.reconnect_max = reconnect_s
        #: slack-sdk's ping period; it is also how soon a socket closed under the client is
        #: noticed and replaced (a ``disconnect`` message is acted on at once)
        self.ping_interval_s = ping_interval_s
        self.client: SocketModeClient | None = None
        self.handler: DeskHandler | None = None
        self._ledger: Ledger | None = None
        self._closed = threading.Event()
        self._connector: threading.Thread | None = None

    def check(self) -> guard.Identity:
        """Who the bot is, and that Slack takes the app-level token; raises
        :class:`InteractivityError` for a token Slack refuses."""
        me = self._auth("bot", self.web)
        app = self._auth("app-level", WebClient(token=self.app_token, base_url=self.api_url))
        identity = guard.Identity(
            team_id=str(me.get("team_id") or ""), app_id=str(me.get("app_id") or "") or None
        )
        if app.get("team_id") and app.get("team_id") != identity.team_id:
            raise InteractivityError("the app-level and bot tokens are of different workspaces")
        return identity

    @staticmethod
    def _auth(which: str, web: WebClient) -> dict[str, object]:
        try:
            return dict(web.auth_test().data)  # type: ignore[arg-type]
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if error in AUTH_ERRORS:
                raise InteractivityError(f"Slack refuses the {which} token ({error})") from exc
            raise InteractivityError(f"auth.test with the {which} token: {error}") from exc

    def start(self, identity: guard.Identity | None = None) -> None:
        identity = identity or self.check()
        self._ledger = Ledger(self.ledger_path)
        forgotten = self.store.forget_before(datetime.now(UTC) - ALERT_RETENTION)
        if forgotten:
            log.info("forgot %d alerts older than %s", forgotten, ALERT_RETENTION)
        self.handler = DeskHandler(
            self.web,
            self.store,
            self._ledger,
            channels=self.channels,
            identity=identity,
            render=self.render,
        )
        self.client = SocketModeClient(
            app_token=self.app_token,
            web_client=WebClient(base_url=self.api_url),
            logger=logging.getLogger("alerts.interactive.socket"),
            ping_interval=self.ping_interval_s,
        )
        self.client.socket_mode_request_listeners.append(self.handler)
        log.info(
            "Socket Mode: buttons handled for team %s (app %s), channels %s",
            identity.team_id,
            identity.app_id or "?",
            ", ".join(sorted(self.channels.names | self.channels.ids)),
        )
        if not self._connect():
            self._connector = threading.Thread(
                target=self._keep_connecting, name="socket-mode-connect", daemon=True
            )
            self._connector.start()

    def _connect(self) -> bool:
        assert self.client is not None
        try:
            self.client.connect()
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if error in AUTH_ERRORS or error == "not_allowed_token_type":
                log.error("Socket Mode refused (%s): the buttons will not be handled", error)
                return True  # retrying cannot help
            log.warning("Socket Mode connection failed (%s); will retry", error)
            return False
        except Exception as exc:
            log.warning("Socket Mode connection failed (%s); will retry", exc)
            return False
        return True

    def _keep_connecting(self) -> None:
        pause = self.reconnect_min
        while not self._closed.wait(pause):
            if self._connect():
                return
            pause = min(self.reconnect_max, pause * 2)

    def connected(self) -> bool:
        return self.client is not None and self.client.is_connected()

    def close(self) -> None:
        """Close the connection and the handler's ledger; safe to call twice."""
        self._closed.set()
        if self._connector is not None:
            self._connector.join(timeout=5)
        if self.client is not None:
            self.client.auto_reconnect_enabled = False
            # The receiving thread waits in recv() (up to 3 s) holding the lock close() needs:
            # shutting the socket down first wakes it, so a stop is not held up.
            sock = getattr(self.client.current_session, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            try:
                self.client.close()
            except Exception as exc:  # closing a socket already gone: say so in one line
                log.warning("closing Socket Mode: %s", exc)
            self.client = None
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None
