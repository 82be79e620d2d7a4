"""The analyst's desk: where incidents live after the stream (a database), and the read-only
faces on it (web map, timeline, incident pages, exports).

A room like ingest/stream/alerts: it stands on the kernel (``marsad``) and on nothing else.
"""
