"""The embedded local Kafka broker: one JVM running Apache Kafka 3.9.1 in KRaft mode.

Why run a real broker rather than a fake: Faust and the pollers are tested against the same
protocol they meet in production. The broker runs detached (its own session) with a pid file,
so ``marsad kafka start`` can return while it keeps running, and any later process can find,
inspect and stop it. Its data directory survives restarts; only ``stop`` + deleting the
directory forgets topics.

Layout of a data directory::

    server.properties   regenerated on every start
    cluster.id          the KRaft cluster id, generated once and reused
    kraft/              log.dirs (metadata log and topic partitions)
    logs/server.log     the broker's log (reload4j); logs/stdout.log: the JVM's own output
    broker.pid          present while the broker runs
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from marsad.kafka import jars
from marsad.kafka.config import (
    BrokerConfig,
    is_valid_cluster_id,
    new_cluster_id,
    render_properties,
    server_properties,
)
from marsad.kafka.errors import (
    BrokerStartError,
    JavaNotFoundError,
    NoBrokerError,
    PortInUseError,
)
from marsad.kafka.locks import file_lock

if TYPE_CHECKING:
    from marsad.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_HEAP = "512m"
POLL_S = 0.2
LOG_TAIL_LINES = 25


@dataclass(frozen=True)
class BrokerStatus:
    """A snapshot of a local broker, for ``marsad kafka status`` and for tests."""

    running: bool
    pid: int | None
    bootstrap: str
    data_dir: Path
    log_path: Path
    rss_mb: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["data_dir"] = str(self.data_dir)
        out["log_path"] = str(self.log_path)
        return out


class LocalBroker:
    """Start, stop and inspect a single-node KRaft broker whose state lives in ``data_dir``.

    Every method works from the files in ``data_dir`` (pid file, config), so a ``LocalBroker``
    built in one process can stop a broker started by another.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int = 9092,
        controller_port: int = 9093,
        heap: str = DEFAULT_HEAP,
        cache_dir: Path | None = None,
        host: str = "127.0.0.1",
        *,
        node_id: int = 1,
        voters: tuple[tuple[int, int], ...] = (),
        cluster_id: str | None = None,
    ) -> None:
        """``node_id``, ``voters`` and ``cluster_id`` make it one node of a cluster
        (:class:`marsad.kafka.cluster.LocalCluster`); by default it is a cluster of one."""
        if port == controller_port:
            raise ValueError(f"broker and controller ports must differ (both {port})")
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.port = port
        self.controller_port = controller_port
        self.heap = heap
        self.host = host
        if cache_dir is None:
            from marsad.settings import Settings

            cache_dir = Settings().cache_dir
        self.cache_dir = Path(cache_dir).expanduser()
        self.node_id = node_id
        self.voters = voters
        self._cluster_id = cluster_id
        self._proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, heap: str = DEFAULT_HEAP) -> LocalBroker:
        """The broker ``marsad up`` uses: ``<home>/kafka`` on the configured local ports."""
        return cls(
            settings.home / "kafka",
            port=settings.local_kafka_port,
            controller_port=settings.local_kafka_controller_port,
            heap=heap,
            cache_dir=settings.cache_dir,
        )

    # -- paths -------------------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def kraft_dir(self) -> Path:
        return self.data_dir / "kraft"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def log_path(self) -> Path:
        return self.logs_dir / "server.log"

    @property
    def stdout_path(self) -> Path:
        return self.logs_dir / "stdout.log"

    @property
    def pid_path(self) -> Path:
        return self.data_dir / "broker.pid"

    @property
    def properties_path(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def cluster_id_path(self) -> Path:
        return self.data_dir / "cluster.id"

    def config(self) -> BrokerConfig:
        return BrokerConfig(
            log_dirs=self.kraft_dir,
            port=self.port,
            controller_port=self.controller_port,
            host=self.host,
            node_id=self.node_id,
            voters=self.voters,
        )

    # -- inspection --------------------------------------------------------------------------

    def pid(self) -> int | None:
        """The pid of this data dir's running broker, or None (stale pid files are ignored)."""
        if self._proc is not None and self._proc.poll() is not None:
            self._proc = None  # reaped: our child exited
        try:
            pid = int(self.pid_path.read_text(encoding="utf-8").strip())
        except (FileNotFoundError, ValueError):
            return None
        if self._proc is not None and self._proc.pid == pid:
            # Our own running child: between fork and exec its cmdline is still Python's,
            # so the cmdline check below would call a broker that is starting "dead".
            return pid
        return pid if _is_our_broker(pid, self.properties_path) else None

    def is_running(self) -> bool:
        return self.pid() is not None

    def status(self) -> BrokerStatus:
        pid = self.pid()
        return BrokerStatus(
            running=pid is not None,
            pid=pid,
            bootstrap=self.bootstrap,
            data_dir=self.data_dir,
            log_path=self.log_path,
            rss_mb=_rss_mb(pid) if pid else None,
        )

    def is_ready(self, timeout_s: float = 5.0) -> bool:
        """True if the broker answers a metadata request (the strongest readiness check)."""
        return metadata_ok(self.bootstrap, timeout_s)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of the broker log and of the JVM's own output, for error messages."""
        parts = []
        for path in (self.log_path, self.stdout_path):
            text = _tail(path, lines)
            if text:
                parts.append(f"--- {path} ---\n{text}")
        return "\n".join(parts) or "(no log output yet)"

    # -- lifecycle ---------------------------------------------------------------------------

    def fetch_jars(self) -> Path:
        """The broker's jar directory in the cache, fetched with Maven on first use."""
        return jars.fetch_jars(self.cache_dir)

    def cluster_id(self) -> str:
        """The cluster id kept in the data dir, created on first call."""
        if self.cluster_id_path.is_file():
            text = self.cluster_id_path.read_text(encoding="utf-8").strip()
            if not is_valid_cluster_id(text):
                raise BrokerStartError(
                    f"{self.cluster_id_path} holds {text!r}, not a Kafka cluster id; delete it "
                    f"together with {self.kraft_dir} to start a fresh cluster"
                )
            return text
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cluster_id = self._cluster_id or new_cluster_id()
        self.cluster_id_path.write_text(cluster_id + "\n", encoding="utf-8")
        return cluster_id

    def start(self, timeout: float = 120.0, wait: bool = True) -> BrokerStatus:
        """Start the broker (or adopt the one already running) and return once it serves.

        Raises ``PortInUseError`` if another process holds a port, ``BrokerStartError`` if the
        JVM exits or is not ready within ``timeout`` seconds (the message names the log file
        and quotes its last lines; a broker that did not get ready is stopped). ``wait=False``
        returns once the JVM runs: a node of a cluster serves only when a majority of its
        controllers is up, so a cluster starts every node first and then waits for each.
        """
        deadline = time.monotonic() + timeout
        # Two commands starting the same data dir at once: the second waits, then adopts.
        with file_lock(self.data_dir / ".start.lock", timeout=timeout, what="broker start"):
            return self._start_locked(deadline, timeout, wait)

    def wait_ready(self, timeout: float = 120.0) -> BrokerStatus:
        """Return once the running broker serves metadata; ``BrokerStartError`` otherwise."""
        self._wait_ready(time.monotonic() + timeout, timeout)
        return self.status()

    def _start_locked(self, deadline: float, timeout: float, wait: bool = True) -> BrokerStatus:
        if self.is_running():
            log.info("local broker already running (pid %s) at %s", self.pid(), self.bootstrap)
            if wait:
                self._wait_ready(deadline, timeout)
            return self.status()
        self._remove_stale_pid_file()
        for port in (self.port, self.controller_port):
            if not port_is_free(self.host, port):
                raise PortInUseError(
                    f"port {port} on {self.host} is already in use by another process, so the "
                    f"local broker for {self.data_dir} cannot listen there. Stop that process, "
                    "choose other ports (MARSAD_LOCAL_KAFKA_PORT / "
                    "MARSAD_LOCAL_KAFKA_CONTROLLER_PORT), or point MARSAD_KAFKA_BOOTSTRAP at "
                    "a broker that is already running."
                )
        libs = self.fetch_jars()
        java = find_java()
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.kraft_dir.mkdir(parents=True, exist_ok=True)
        self.properties_path.write_text(
            render_properties(server_properties(self.config())), encoding="utf-8"
        )
        self._format_storage(java, libs)
        cmd = [*self._java_command(java, libs), "kafka.Kafka", str(self.properties_path)]
        log.info("starting local Kafka broker at %s (data %s)", self.bootstrap, self.data_dir)
        with self.stdout_path.open("ab") as out:
            self._proc = subprocess.Popen(
                cmd,
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # survives the CLI that started it; no stray ^C
            )
        self.pid_path.write_text(f"{self._proc.pid}\n", encoding="utf-8")
        if not wait:
            return self.status()
        try:
            self._wait_ready(deadline, timeout)
        except BaseException:  # not ready, ^C, test timeout: never leave a half-started JVM
            self.stop(timeout=10)
            raise
        log.info("local broker ready at %s; log %s", self.bootstrap, self.log_path)
        return self.status()

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM the broker, wait up to ``timeout`` s, then SIGKILL. True if one was running."""
        pid = self.pid()
        if pid is None:
            self._remove_stale_pid_file()
            return False
        log.info("stopping local broker (pid %d)", pid)
        _signal(pid, signal.SIGTERM)
        if not self._wait_exit(pid, timeout):
            log.warning("broker pid %d ignored SIGTERM for %.0f s; sending SIGKILL", pid, timeout)
            _signal(pid, signal.SIGKILL)
            self._wait_exit(pid, 10.0)
        self.pid_path.unlink(missing_ok=True)
        return True

    def kill(self) -> bool:
        """SIGKILL the broker without a clean shutdown (resilience drills). True if one ran."""
        pid = self.pid()
        if pid is None:
            return False
        _signal(pid, signal.SIGKILL)
        self._wait_exit(pid, 10.0)
        self.pid_path.unlink(missing_ok=True)
        return True

    def restart(self, timeout: float = 120.0) -> BrokerStatus:
        """Stop (if running) and start again on the same ports and data dir."""
        self.stop()
        return self.start(timeout=timeout)

    # -- internals ---------------------------------------------------------------------------

    def _java_command(self, java: str, libs: Path) -> list[str]:
        log4j = jars.package_file("log4j.properties")
        return [
            java,
            f"-Xmx{self.heap}",
            f"-Xms{self.heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j.configuration={log4j.as_uri()}",
            f"-Dkafka.logs.dir={self.logs_dir}",
            "-cp",
            f"{libs}/*",  # expanded by the JVM itself, no shell involved
        ]

    def _format_storage(self, java: str, libs: Path) -> None:
        """Format log.dirs once; later starts find meta.properties and reuse the cluster."""
        if (self.kraft_dir / "meta.properties").is_file():
            return
        cluster_id = self.cluster_id()
        cmd = [
            *self._java_command(java, libs),
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(self.properties_path),
            "--ignore-formatted",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise BrokerStartError(
                f"formatting {self.kraft_dir} failed (exit {done.returncode}):\n"
                f"{(done.stdout + done.stderr).strip()[-2000:]}"
            )
        log.info("formatted %s for cluster %s", self.kraft_dir, cluster_id)

    def _wait_ready(self, deadline: float, timeout: float) -> None:
        while True:
            pid = self.pid()
            if pid is None:
                raise BrokerStartError(
                    f"the Kafka broker exited during start-up; see {self.log_path}\n"
                    f"{self.log_tail()}"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrokerStartError(
                    f"the Kafka broker at {self.bootstrap} was not ready within {timeout:.0f} s; "
                    f"see {self.log_path}\n{self.log_tail()}"
                )
            # Probe only once the broker listens: connecting to a free port in the ephemeral
            # range can connect the socket to itself and then block the broker's own bind.
            if _listening(self.port) is not False and metadata_ok(
                self.bootstrap, min(5.0, max(remaining, 0.5))
            ):
                return
            _pause(min(POLL_S, max(deadline - time.monotonic(), 0)))

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        if self._proc is not None and self._proc.pid == pid:
            try:
                self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return False
            self._proc = None
            return True
        return wait_for(lambda: not _alive(pid), timeout)

    def _remove_stale_pid_file(self) -> None:
        if self.pid_path.exists() and self.pid() is None:
            log.info("removing stale pid file %s", self.pid_path)
            self.pid_path.unlink(missing_ok=True)


# -- module helpers ------------------------------------------------------------------------------


def ensure_local_broker(settings: Settings, timeout: float = 120.0) -> str:
    """The bootstrap string to use: the configured broker, or the local one (started if needed).

    With ``MARSAD_KAFKA_BOOTSTRAP`` set, that broker is used as is (topics are created by
    whoever runs it, or by ``ensure_topics`` elsewhere). Otherwise the embedded broker in
    ``<home>/kafka`` is started, or reused if already running, and the contract topics are
    created with ``settings.partitions`` partitions. The broker keeps running after the caller
    exits; ``marsad kafka stop`` stops it.
    """
    return kafka_address(settings, timeout=timeout)


def kafka_address(
    settings: Settings, explicit: str | None = None, *, start: bool = True, timeout: float = 120.0
) -> str:
    """Where Kafka is, decided in one place: ``explicit`` (a ``--bootstrap`` option), else
    ``MARSAD_KAFKA_BOOTSTRAP``, else the embedded local broker (started with its topics when
    ``start``; otherwise it must already run)."""
    return locate_kafka(settings, explicit, start=start, timeout=timeout)[0]


def locate_kafka(
    settings: Settings, explicit: str | None = None, *, start: bool = True, timeout: float = 120.0
) -> tuple[str, str]:
    """``(bootstrap, where it came from)``; see :func:`kafka_address`.

    Raises :class:`NoBrokerError` when ``start`` is false and no local broker runs.
    """
    if explicit:
        return explicit, "--bootstrap"
    if settings.kafka_bootstrap:
        return settings.kafka_bootstrap, "MARSAD_KAFKA_BOOTSTRAP"
    broker = LocalBroker.from_settings(settings)
    if not start:
        pid = broker.pid()
        if pid is None:
            raise NoBrokerError(
                f"no Kafka broker reachable: MARSAD_KAFKA_BOOTSTRAP is unset and no local broker "
                f"runs in {broker.data_dir} (start one with `marsad kafka start`)"
            )
        return broker.bootstrap, f"local broker (pid {pid})"
    from marsad.topics import ensure_topics

    broker.start(timeout=timeout)
    ensure_topics(
        broker.bootstrap,
        settings.partitions,
        settings.topics,
        replication=settings.replication_factor,
    )
    return broker.bootstrap, "local broker"


def metadata_ok(bootstrap: str, timeout_s: float = 5.0) -> bool:
    """True if a broker at ``bootstrap`` answers a cluster metadata request with itself in it."""
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        # Cheap pre-check: kafka-python is slow and loud against a closed port.
        with socket.create_connection((host, int(port)), timeout=min(timeout_s, 2.0)) as sock:
            if sock.getsockname() == sock.getpeername():
                return False  # TCP self-connect to a free port, not a broker
    except OSError:
        return False
    from kafka import KafkaAdminClient

    ms = int(timeout_s * 1000)
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="marsad-probe",
            request_timeout_ms=max(ms, 1000),
        )
    except Exception:  # NoBrokersAvailable, KafkaError, OSError: not ready yet
        return False
    try:
        info = admin.describe_cluster()
        return bool(info.get("brokers"))
    except Exception:
        return False
    finally:
        admin.close()


def port_is_free(host: str, port: int) -> bool:
    """True if nothing listens on ``host:port`` (SO_REUSEADDR, as the JVM binds, so sockets
    lingering in TIME_WAIT after a restart do not count as in use)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def _listening(port: int) -> bool | None:
    """Whether some socket LISTENs on ``port`` per /proc/net/tcp{,6}; None if unknown.

    Passive (no connect, no bind), so it cannot disturb a broker that is about to bind.
    """
    found_table = False
    suffix = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        found_table = True
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A" and fields[1].endswith(suffix):
                return True
    return False if found_table else None


def find_java() -> str:
    """``$JAVA_HOME/bin/java`` if set and present, else ``java`` on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise JavaNotFoundError(
            "no 'java' on PATH and JAVA_HOME unset: the local Kafka broker needs Java 17+. "
            "Install it, or set MARSAD_KAFKA_BOOTSTRAP to use an existing broker."
        )
    return found


def wait_for(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    """Poll ``predicate`` until true or ``timeout`` s pass; True if it became true."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        _pause(min(step, remaining))


def _pause(seconds: float) -> None:
    # Only used between polls of a condition, never as synchronisation on its own.
    time.sleep(seconds)


def _alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie (a dead child not yet reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    state = stat.rpartition(")")[2].split()[0]
    return state not in ("Z", "X")


def _is_our_broker(pid: int, properties_path: Path) -> bool:
    """True if ``pid`` is alive and is the Kafka JVM started with this data dir's config.

    Guards against pid reuse: after a reboot a stale pid file may name an unrelated process.
    """
    if pid <= 0 or not _alive(pid):
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (not Linux): trust the liveness check
    return b"kafka.Kafka" in argv and str(properties_path).encode() in argv


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _tail(path: Path, lines: int) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(handle.tell() - 64 * 1024, 0))
            data = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])
