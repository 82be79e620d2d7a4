"""The daily digest: one Slack message a day per configured channel, summing up the last 24 h.

Pieces, each deciding one thing: :mod:`~alerts.digest.build` (the figures, pure),
:mod:`~alerts.digest.layout` (Block Kit, pure), :mod:`~alerts.digest.source` (where incidents
and the desk's feedback come from: the ``incidents`` topic by default, a protocol for anything
else), :mod:`~alerts.digest.schedule` (when a channel's digest is due, pure) and
:mod:`~alerts.digest.scheduler` (posting it once per channel and local day, across restarts),
:mod:`~alerts.digest.cli` (``marsad digest``).
"""
