"""`marsad store --migrate` and the engine's edges: pragmas, bad URLs, a database not there."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text

from desk.store.cli import store_cmd
from desk.store.engine import open_engine, redacted
from desk.store.migrate import current, head


def test_migrate_creates_the_schema_and_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'desk.db'}"  # the directory is created
    result = CliRunner().invoke(store_cmd, ["--database", url, "--migrate"])
    assert result.exit_code == 0, result.output
    assert f"database at schema {head()}" in result.output
    engine = open_engine(url)
    assert current(engine) == head()
    engine.dispose()


def test_sqlite_is_opened_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    engine.dispose()


def test_a_bad_url_is_a_configuration_error_in_one_line() -> None:
    for url in ("nonsense", "mysql://u@h/db"):
        result = CliRunner().invoke(store_cmd, ["--database", url, "--migrate"])
        assert result.exit_code == 2, result.output
        assert "MARSAD_DATABASE_URL" in result.output and "Traceback" not in result.output


def test_a_database_out_of_reach_ends_in_one_line_without_the_password() -> None:
    url = "postgresql+psycopg://marsad:s3cret@127.0.0.1:1/marsad"
    result = CliRunner().invoke(store_cmd, ["--database", url, "--migrate"])
    assert result.exit_code == 1, result.output
    assert "cannot open the database" in result.output
    assert "s3cret" not in result.output and "***" in result.output
    assert "s3cret" not in redacted(open_engine(url))
