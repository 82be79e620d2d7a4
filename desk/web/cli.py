"""``marsad web``: serve the desk's pages and endpoints, read-only, with uvicorn.

Binds ``MARSAD_WEB_LISTEN`` (default ``127.0.0.1:8080``: only this machine; ``0.0.0.0:8080``
in a container, behind whatever guards the network). SIGINT/SIGTERM stop it gracefully:
uvicorn stops accepting, finishes the requests in flight, and the command returns.

Why uvicorn runs in a thread: the signals are handled the way every ``marsad`` command
handles them (:func:`marsad.commands.stop_on_signals`: one log line, a stop event), not by
uvicorn's own handlers, so ``marsad up`` stops this service like the others.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import click

from marsad.commands import Command, check_option, config_file_option, stop_on_signals
from marsad.errors import ConfigError
from marsad.settings import get_settings

log = logging.getLogger(__name__)


def split_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:8080`` for IPv6) → ``(host, port)``; a ConfigError otherwise."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"MARSAD_WEB_LISTEN: expected host:port, got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


@click.command("web", cls=Command)
@click.option(
    "--listen",
    default=None,
    metavar="HOST:PORT",
    help="Address to serve on [default: $MARSAD_WEB_LISTEN, 127.0.0.1:8080].",
)
@click.option(
    "--database",
    default=None,
    metavar="URL",
    help="SQLAlchemy URL of the store [default: $MARSAD_DATABASE_URL, else SQLite "
    "in $MARSAD_HOME].",
)
@config_file_option("--rules", "rules_file", "rules.yaml", "Rules whose thresholds are drawn")
@check_option("the store and the rules file")
def web_cmd(listen: str | None, database: str | None, rules_file: Path, check: bool) -> None:
    """Serve the map, timeline, incident pages and JSON/GeoJSON/CSV endpoints (read-only)."""
    import uvicorn

    from desk.web.access import Access
    from desk.web.app import create_app
    from desk.web.store_source import open_source

    settings = get_settings()
    host, port = split_listen(listen or settings.web_listen)
    source = open_source(database or settings.database)
    access = Access(token=settings.web_token, user_header=settings.web_user_header)
    app = create_app(source, rules=rules_file, tile_url=settings.web_tile_url, access=access)
    if check:
        click.echo("web: configuration OK")
        return
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="off", timeout_graceful_shutdown=10
    )
    server = uvicorn.Server(config)
    stop = threading.Event()
    stop_on_signals(stop, log, "finishing the requests in flight, then stopping")
    thread = threading.Thread(target=server.run, name="marsad-web", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        stop.wait(0.05)
        if stop.is_set():
            break
    if server.started:
        click.echo(f"marsad web: serving http://{host}:{port}/ ; Ctrl-C to stop", err=True)
    while thread.is_alive() and not stop.wait(0.5):
        pass
    server.should_exit = True
    thread.join(timeout=15)
    source.close()
    if not server.started:
        raise click.ClickException(f"could not serve on {host}:{port} (see the log above)")
    log.info("web stopped")
