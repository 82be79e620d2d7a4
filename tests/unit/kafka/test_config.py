"""server.properties rendering and KRaft cluster ids, without a JVM."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from marsad.kafka.config import (
    BrokerConfig,
    is_valid_cluster_id,
    new_cluster_id,
    render_properties,
    server_properties,
)


def _parse(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {k: v for k, v in pairs}


def test_cluster_id_is_22_url_safe_chars_of_16_bytes() -> None:
    for _ in range(200):
        cid = new_cluster_id()
        assert len(cid) == 22
        assert "=" not in cid and "+" not in cid and "/" not in cid
        assert len(base64.urlsafe_b64decode(cid + "==")) == 16
        assert not cid.startswith("-")
        assert is_valid_cluster_id(cid)


def test_cluster_ids_differ() -> None:
    assert len({new_cluster_id() for _ in range(100)}) == 100


def test_cluster_id_skips_leading_dash_and_zero_uuid() -> None:
    dash = b"\xf8" + bytes(15)  # top six bits 62 -> "-" in the URL-safe alphabet
    assert base64.urlsafe_b64encode(dash).startswith(b"-")
    draws: Iterator[bytes] = iter([dash, bytes(16), b"\x01" * 16])

    cid = new_cluster_id(lambda n: next(draws))

    assert cid == base64.urlsafe_b64encode(b"\x01" * 16).decode().rstrip("=")


def test_cluster_id_rejects_short_randomness() -> None:
    with pytest.raises(ValueError, match="16 random bytes"):
        new_cluster_id(lambda n: b"abc")


@pytest.mark.parametrize("text", ["", "short", "!" * 22, "a" * 23, "AAAAAAAAAAAAAAAAAAAAAB"])
def test_invalid_cluster_ids(text: str) -> None:
    assert not is_valid_cluster_id(text)


def test_server_properties_single_node_kraft(tmp_path: Path) -> None:
    cfg = BrokerConfig(log_dirs=tmp_path / "kraft", port=19092, controller_port=19093)

    props = _parse(render_properties(server_properties(cfg)))

    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert "CONTROLLER:PLAINTEXT" in props["listener.security.protocol.map"]
    assert Path(props["log.dirs"]).is_absolute()
    assert props["log.dirs"] == str((tmp_path / "kraft").resolve())
    # One broker cannot meet the default replication factor of 3.
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert props["auto.create.topics.enable"] == "false"
    assert cfg.bootstrap == "127.0.0.1:19092"


def test_a_node_of_three_names_every_voter_and_replicates_three_times(tmp_path: Path) -> None:
    voters = ((1, 29093), (2, 29095), (3, 29097))
    cfg = BrokerConfig(tmp_path, port=29094, controller_port=29095, node_id=2, voters=voters)
    props = server_properties(cfg)
    assert props["node.id"] == "2"
    assert props["controller.quorum.voters"] == (
        "1@127.0.0.1:29093,2@127.0.0.1:29095,3@127.0.0.1:29097"
    )
    assert props["offsets.topic.replication.factor"] == "3"
    assert props["default.replication.factor"] == "3"
    assert props["min.insync.replicas"] == "2"  # with acks=all: one broker may die
    assert props["transaction.state.log.min.isr"] == "2"


def test_a_single_node_needs_only_itself_in_sync(tmp_path: Path) -> None:
    props = server_properties(BrokerConfig(tmp_path, port=1, controller_port=2))
    assert props["min.insync.replicas"] == "1"
    assert props["default.replication.factor"] == "1"


def test_rendered_properties_have_one_line_per_key(tmp_path: Path) -> None:
    cfg = BrokerConfig(log_dirs=tmp_path, port=1, controller_port=2)
    props = server_properties(cfg)
    text = render_properties(props)
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(body) == len(props)
    assert text.endswith("\n")
