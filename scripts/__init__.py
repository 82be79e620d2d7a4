"""Maintenance scripts (corpus checks, calibration); run as ``python scripts/NAME.py``."""
