"""The desk's side of the alerts: buttons on every message, handled over Slack's Socket Mode.

:mod:`alerts.interactive.actions` stores what people did (acknowledgements, mutes,
corrections); the digest reads it too.
"""
