"""The local Slack-compatible server for tests: :class:`control.slack_stub.SlackStub`, strict.

The implementation ships in the package (``marsad demo`` uses it); tests use it with a fixed
set of valid tokens, so a wrong token gets ``invalid_auth`` as from real Slack.  See
``control/slack_stub.py`` for the methods served and the programmable faults.
"""

from __future__ import annotations

from collections.abc import Iterable

from control.slack_stub import Call, SlackStub

DEFAULT_TOKEN = "xoxb-test-token"

__all__ = ["DEFAULT_TOKEN", "Call", "SlackServer"]


class SlackServer(SlackStub):
    def __init__(
        self,
        valid_tokens: Iterable[str] = (DEFAULT_TOKEN,),
        rate_limit_every: int = 0,
        retry_after: int = 0,
        missing_channels: Iterable[str] = (),
    ) -> None:
        super().__init__(valid_tokens, rate_limit_every, retry_after, missing_channels)
