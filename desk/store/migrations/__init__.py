"""Alembic migrations of the store (``env.py``, ``versions/``): run by ``desk.store.migrate``."""
