"""A real PostgreSQL server for the store's tests: Debian's binaries, a temp dir, a free port.

Why a real server rather than SQLite alone: the store runs on PostgreSQL in compose, and the
two differ exactly where the store is careful (conflict clauses, time zones, JSON, DDL).

The server runs as the unprivileged ``postgres`` OS user when the tests run as root
(PostgreSQL refuses to run as root), in a directory of its own under the system temp dir
(pytest's temp dirs are private to root), listening on 127.0.0.1 and a socket in that
directory only. ``fsync=off``: a test database need not survive a power cut. One server per
test session (the fixture is shared by every module that imports it); each test gets a fresh
database. Skipped, saying why, only when the binaries are not installed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.kafka_helpers import free_port

#: Debian's PostgreSQL 15 (``postgresql-15``); ``MARSAD_TEST_PG_BIN`` points elsewhere.
PG_BIN = Path(os.environ.get("MARSAD_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
OS_USER = "postgres"
DB_USER = "postgres"


class PostgresServer:
    """One throwaway cluster: ``start()``, ``create_database()`` for each test, ``stop()``."""

    def __init__(self, bin_dir: Path = PG_BIN) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="marsad-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(OS_USER)
            except KeyError:
                raise RuntimeError(
                    f"running as root and there is no {OS_USER!r} OS user to run PostgreSQL as"
                ) from None
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as_user = ["runuser", "-u", OS_USER, "--"]

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self._as_user, *args], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(
                f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip()}\n{log}"
            )

    def start(self) -> None:
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            DB_USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        for attempt in range(3):  # another process may bind the chosen port first
            self.port = free_port()
            options = (
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                self._run(
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                )
                return
            except RuntimeError:
                if attempt == 2:
                    raise

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{DB_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user={DB_USER} dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.port and (self.data / "postmaster.pid").exists():
            self._run(
                str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"
            )
        shutil.rmtree(self.root, ignore_errors=True)


_shared: PostgresServer | None = None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (started by the first test that needs it)."""
    global _shared
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        pytest.skip(
            f"PostgreSQL server binaries not found in {PG_BIN} "
            "(Debian: apt-get install postgresql-15; or set MARSAD_TEST_PG_BIN)"
        )
    owner = _shared is None
    if _shared is None:
        server = PostgresServer()
        try:
            server.start()
        except BaseException:
            server.stop()
            raise
        _shared = server
    try:
        yield _shared
    finally:
        if owner:
            _shared.stop()
            _shared = None


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """``postgresql+psycopg://…`` of a fresh database on the session's server."""
    return postgres_server.create_database()
