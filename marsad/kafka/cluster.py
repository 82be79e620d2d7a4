"""A local Kafka cluster of several KRaft nodes: the production shape, on one machine.

Why: a desk that cannot lose an alert runs three brokers (replication factor 3,
``min.insync.replicas=2``); the drills and ``marsad kafka start --brokers 3`` need the same
shape locally to show that one broker dying loses nothing. Each node is a
:class:`~marsad.kafka.broker.LocalBroker` (broker and controller in one JVM) in
``<data dir>/node-<n>``, on ports ``port + 2n`` (clients) and ``port + 2n + 1`` (controller),
sharing one cluster id kept in ``<data dir>/cluster.id``.

Layout::

    cluster.id      the KRaft cluster id, shared by every node
    node-1/ …       one LocalBroker data directory per node
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from marsad.kafka.broker import LocalBroker, wait_for
from marsad.kafka.config import is_valid_cluster_id, new_cluster_id
from marsad.kafka.errors import BrokerStartError


class LocalCluster:
    """``size`` KRaft nodes that together form one cluster; start, stop, kill one, restart."""

    def __init__(
        self,
        data_dir: Path,
        size: int = 3,
        port: int = 9092,
        heap: str = "384m",
        cache_dir: Path | None = None,
        host: str = "127.0.0.1",
        ports: list[tuple[int, int]] | None = None,
    ) -> None:
        """``ports`` (client, controller) per node overrides the ``port + 2n`` layout (tests
        take free ports)."""
        if size < 1:
            raise ValueError(f"a cluster needs at least one node, not {size}")
        self.data_dir = Path(data_dir).expanduser().resolve()
        layout = ports or [(port + 2 * n, port + 2 * n + 1) for n in range(size)]
        if len(layout) != size:
            raise ValueError(f"{size} nodes need {size} port pairs, got {len(layout)}")
        voters = tuple((n + 1, controller) for n, (_client, controller) in enumerate(layout))
        cluster_id = self._cluster_id()
        self.nodes = [
            LocalBroker(
                self.data_dir / f"node-{n + 1}",
                port=client,
                controller_port=controller,
                heap=heap,
                cache_dir=cache_dir,
                host=host,
                node_id=n + 1,
                voters=voters,
                cluster_id=cluster_id,
            )
            for n, (client, controller) in enumerate(layout)
        ]

    def _cluster_id(self) -> str:
        path = self.data_dir / "cluster.id"
        if path.is_file():
            text = path.read_text(encoding="utf-8").strip()
            if not is_valid_cluster_id(text):
                raise BrokerStartError(f"{path} holds {text!r}, not a Kafka cluster id")
            return text
        self.data_dir.mkdir(parents=True, exist_ok=True)
        text = new_cluster_id()
        path.write_text(text + "\n", encoding="utf-8")
        return text

    @property
    def size(self) -> int:
        return len(self.nodes)

    @property
    def bootstrap(self) -> str:
        """Every node's address: clients find the cluster through whichever answers."""
        return ",".join(node.bootstrap for node in self.nodes)

    def running(self) -> list[LocalBroker]:
        return [node for node in self.nodes if node.is_running()]

    def start(self, timeout: float = 180.0) -> str:
        """Start every node (a node serves only once a majority of controllers runs), wait
        until each serves, and return the bootstrap string. A node that does not come up
        stops the whole cluster, so no half-started JVMs are left behind."""
        try:
            for node in self.nodes:
                node.start(timeout=timeout, wait=False)
            for node in self.nodes:
                node.wait_ready(timeout)
            if not wait_for(lambda: self.registered() >= self.size, timeout, step=0.5):
                raise BrokerStartError(
                    f"only {self.registered()} of {self.size} brokers registered with the "
                    f"controller within {timeout:.0f} s; see the nodes' logs in {self.data_dir}"
                )
        except BaseException:
            self.stop(timeout=10)
            raise
        return self.bootstrap

    def registered(self) -> int:
        """Brokers the controller knows: each node answers metadata before all have joined,
        and a topic created then would get fewer replicas than the cluster has."""
        from kafka.admin import KafkaAdminClient

        try:
            admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap,
                client_id="marsad-cluster",
                request_timeout_ms=5000,
            )
        except Exception:  # no node answers yet
            return 0
        try:
            return len(admin.describe_cluster().get("brokers") or [])
        except Exception:
            return 0
        finally:
            admin.close()

    def start_node(self, index: int, timeout: float = 180.0) -> None:
        """Start node ``index`` (0-based) again after a stop or kill; the others keep serving."""
        self.nodes[index].start(timeout=timeout)

    def kill_node(self, index: int) -> bool:
        """SIGKILL node ``index``: no clean shutdown, as a crashed machine."""
        return self.nodes[index].kill()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop every node at once: stopped one by one, the last ones lose their controller
        quorum and hang in controlled shutdown until the SIGKILL."""
        with ThreadPoolExecutor(max_workers=self.size) as pool:
            list(pool.map(lambda node: node.stop(timeout=timeout), self.nodes))

    def wait_stopped(self, timeout: float = 30.0) -> bool:
        return wait_for(lambda: not self.running(), timeout)
