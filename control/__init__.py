"""The top floor: composes the rooms into what a user runs.

``cli`` (the ``marsad`` command), ``up`` (broker + the three rooms as child processes),
``demo``, ``replay`` (back-tests), ``status``, ``services`` and ``workers`` (child-process
supervision) and ``slack_stub`` (a local Slack Web API server for the demo and tests).
Only this package imports more than one room; the rooms (``ingest``, ``stream``, ``alerts``)
import the kernel (``marsad``) and never each other. ``make lint`` enforces it.
"""
