"""Opening the store for the web: the schema is brought up to date, and losing that race to the
store service (which migrates the same new database at the same moment) is not an error."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from desk.store.migrate import current, head
from desk.store.migrate import upgrade as real_upgrade
from desk.store.records import IncidentFilter
from desk.web import store_source
from desk.web.store_source import open_source


def test_a_new_database_is_migrated_and_empty(tmp_path: Path) -> None:
    source = open_source(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        assert current(source.engine) == head()
        assert list(source.incidents(IncidentFilter(since=None))) == []
    finally:
        source.close()


def test_losing_the_migration_race_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def raced(engine: Engine) -> str:
        real_upgrade(engine)  # the other process got there first…
        raise OperationalError("CREATE TABLE", {}, Exception("table already exists"))

    monkeypatch.setattr(store_source, "upgrade", raced)
    source = open_source(f"sqlite:///{tmp_path / 'raced.db'}")
    source.close()


def test_a_migration_that_really_failed_still_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(engine: Engine) -> str:
        raise OperationalError("CREATE TABLE", {}, Exception("disk I/O error"))

    monkeypatch.setattr(store_source, "upgrade", broken)
    with pytest.raises(OperationalError):
        open_source(f"sqlite:///{tmp_path / 'broken.db'}")
