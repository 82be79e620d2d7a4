"""LocalBroker's process handling with a stand-in ``java``: pid files, ports, start failures."""

from __future__ import annotations

import os
import socket
import stat
import sys
from pathlib import Path

import pytest

from marsad.kafka import jars
from marsad.kafka.broker import LocalBroker, port_is_free
from marsad.kafka.errors import BrokerStartError, PortInUseError
from tests.support.kafka_helpers import free_ports

# Formats successfully; as the broker it prints a line then either hangs or exits.
FAKE_JAVA = """#!{python}
import sys, time
if "kafka.tools.StorageTool" in sys.argv:
    sys.exit(0)
print("fake broker: cannot serve", flush=True)
if {exit_code!r} is not None:
    sys.exit({exit_code!r})
time.sleep(600)
"""


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """A cache that looks fetched, so no Maven run happens."""
    cache = tmp_path / "cache"
    libs = jars.libs_dir(cache)
    libs.mkdir(parents=True)
    for name in jars.REQUIRED_JARS:
        (libs / name).write_bytes(b"jar")
    (jars.kafka_home(cache) / jars.MARKER).write_text("\n".join(jars.REQUIRED_JARS))
    return cache


def _fake_java(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exit_code: int | None) -> None:
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(FAKE_JAVA.format(python=sys.executable, exit_code=exit_code))
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("JAVA_HOME", str(home))


def _broker(tmp_path: Path, cache: Path) -> LocalBroker:
    port, cport = free_ports(2)
    return LocalBroker(tmp_path / "data", port=port, controller_port=cport, cache_dir=cache)


def test_not_running_without_pid_file(tmp_path: Path, cache: Path) -> None:
    broker = _broker(tmp_path, cache)
    status = broker.status()
    assert not status.running and status.pid is None
    assert status.log_path == tmp_path / "data" / "logs" / "server.log"
    assert broker.stop() is False
    assert broker.kill() is False


def test_stale_pid_files_are_ignored_and_removed(tmp_path: Path, cache: Path) -> None:
    broker = _broker(tmp_path, cache)
    broker.data_dir.mkdir(parents=True)
    # A live process that is not our broker (pid reuse), then garbage.
    for content in (str(os.getpid()), "not-a-pid", "999999999"):
        broker.pid_path.write_text(content)
        assert broker.pid() is None
        assert not broker.is_running()
        broker.stop()
        assert not broker.pid_path.exists()


def test_same_ports_rejected() -> None:
    with pytest.raises(ValueError, match="must differ"):
        LocalBroker(Path("/tmp/x"), port=9092, controller_port=9092)


def test_port_in_use_is_a_clear_error(tmp_path: Path, cache: Path) -> None:
    broker = _broker(tmp_path, cache)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", broker.controller_port))
        holder.listen()
        assert not port_is_free("127.0.0.1", broker.controller_port)
        with pytest.raises(PortInUseError, match=f"port {broker.controller_port}"):
            broker.start(timeout=5)
    assert port_is_free("127.0.0.1", broker.controller_port)
    assert not broker.pid_path.exists()


def test_start_timeout_names_log_and_stops_process(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_java(tmp_path, monkeypatch, exit_code=None)
    broker = _broker(tmp_path, cache)

    with pytest.raises(BrokerStartError) as info:
        broker.start(timeout=1.5)

    message = str(info.value)
    assert "not ready within 2 s" in message
    assert str(broker.log_path) in message
    assert "fake broker: cannot serve" in message  # the tail of stdout.log is quoted
    assert not broker.is_running()
    assert not broker.pid_path.exists()
    assert broker.cluster_id_path.is_file()
    assert "process.roles=broker,controller" in broker.properties_path.read_text()


def test_start_reports_early_exit(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_java(tmp_path, monkeypatch, exit_code=1)
    broker = _broker(tmp_path, cache)
    with pytest.raises(BrokerStartError, match="exited during start-up"):
        broker.start(timeout=30)
    assert not broker.pid_path.exists()


def test_cluster_id_is_kept(tmp_path: Path, cache: Path) -> None:
    broker = _broker(tmp_path, cache)
    first = broker.cluster_id()
    again = LocalBroker(broker.data_dir, port=1, controller_port=2, cache_dir=cache).cluster_id()
    assert first == again
    broker.cluster_id_path.write_text("garbage")
    with pytest.raises(BrokerStartError, match="not a Kafka cluster id"):
        broker.cluster_id()


def test_listening_sees_only_listening_sockets() -> None:
    from marsad.kafka.broker import _listening

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        assert _listening(port) is False  # bound is not listening
        sock.listen()
        assert _listening(port) is True


def test_from_settings_uses_home_and_local_ports(tmp_path: Path) -> None:
    from marsad.settings import Settings

    settings = Settings(
        home=tmp_path, local_kafka_port=19092, local_kafka_controller_port=19093, cache_dir=tmp_path
    )
    broker = LocalBroker.from_settings(settings)
    assert broker.data_dir == (tmp_path / "kafka").resolve()
    assert broker.bootstrap == "127.0.0.1:19092"
    assert broker.controller_port == 19093
    assert broker.cache_dir == tmp_path
