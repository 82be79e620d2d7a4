"""docker-compose.yml stays in step with the code (no Docker engine here, so we check by reading).

`docker compose config` needs the compose plugin, absent on this machine; instead these tests
check what compose would check and what the code expects: every service command is a real
`marsad` subcommand, every MARSAD_/SLACK_ variable is a real setting, and the broker image is
the Kafka line the clients are tested against.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from control.cli import COMMANDS
from marsad.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def _env_names() -> set[str]:
    names = set()
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add(alias if isinstance(alias, str) else f"MARSAD_{field_name.upper()}")
    return names


#: Services that run an image of their own, not a ``marsad`` command.
NOT_MARSAD = {"kafka", "postgres", "prometheus", "grafana"}


def test_services_are_broker_plus_the_three_rooms() -> None:
    assert set(COMPOSE["services"]) == {
        "kafka",
        "topics",
        "check",
        "ingest",
        "stream",
        "alerts",
        "postgres",
        "store",
        "web",
        "prometheus",
        "grafana",
    }


def test_every_service_command_is_a_marsad_subcommand() -> None:
    for name, svc in COMPOSE["services"].items():
        if name in NOT_MARSAD:
            continue
        command = svc["command"]
        assert command[0] in COMMANDS, f"{name}: unknown marsad subcommand {command[0]}"


def test_every_marsad_variable_is_a_setting() -> None:
    known = _env_names()
    for name, svc in COMPOSE["services"].items():
        for var in svc.get("environment", {}):
            if var.startswith(("MARSAD_", "SLACK_")):
                assert var in known, f"{name}: {var} is not read by marsad.settings"


def test_broker_is_kafka_39_kraft_with_single_node_replication() -> None:
    kafka = COMPOSE["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:3.9")
    env = kafka["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    bootstrap = COMPOSE["services"]["stream"]["environment"]["MARSAD_KAFKA_BOOTSTRAP"]
    assert bootstrap.split(":")[1] in env["KAFKA_ADVERTISED_LISTENERS"]


def test_services_wait_for_topics_and_a_passing_check() -> None:
    for name in ("ingest", "stream", "alerts", "store"):
        dep = COMPOSE["services"][name]["depends_on"]["check"]
        assert dep["condition"] == "service_completed_successfully"
    check = COMPOSE["services"]["check"]
    assert check["command"][0] == "check"
    assert check["depends_on"]["topics"]["condition"] == "service_completed_successfully"


def test_stream_has_a_healthcheck_on_its_healthz_and_a_restart_policy() -> None:
    stream = COMPOSE["services"]["stream"]
    assert stream["restart"] == "unless-stopped"
    port = stream["environment"]["MARSAD_STREAM_METRICS_PORT"]
    check = stream["healthcheck"]
    test = " ".join(check["test"])
    assert f"127.0.0.1:{port}/healthz" in test
    assert check["start_period"] and check["interval"] and check["retries"] >= 1
    # The worker binds where the healthcheck and the published port can reach it, and exits
    # when stalled so the restart policy (which ignores "unhealthy") restarts it.
    command = stream["command"]
    assert command[command.index("--metrics-host") + 1] == "0.0.0.0"
    assert "--exit-on-stall" in command
    assert f"{port}:{port}" in stream["ports"]


def test_every_flag_in_compose_is_a_real_option() -> None:
    import click

    from control.cli import main

    for name, svc in COMPOSE["services"].items():
        if name in NOT_MARSAD:
            continue
        command = main.get_command(click.Context(main), svc["command"][0])
        assert command is not None, name
        if isinstance(command, click.Group):  # `kafka topics`
            command = command.get_command(click.Context(command), svc["command"][1])
            assert command is not None, name
        known = {opt for p in command.params for opt in getattr(p, "opts", [])}
        flags = [a for a in svc["command"] if a.startswith("--")]
        assert set(flags) <= known, (name, set(flags) - known)


def test_store_writes_the_postgres_service_once_it_is_healthy() -> None:
    store = COMPOSE["services"]["store"]
    assert store["command"][0] == "store"
    assert store["depends_on"]["postgres"]["condition"] == "service_healthy"
    url = store["environment"]["MARSAD_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url
    postgres = COMPOSE["services"]["postgres"]
    assert postgres["image"].startswith("postgres:15")
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_store_has_a_healthcheck_on_its_healthz_and_serves_metrics_beyond_localhost() -> None:
    store = COMPOSE["services"]["store"]
    port = store["environment"]["MARSAD_STORE_METRICS_PORT"]
    ports_in_use = {
        svc["environment"][var]
        for name, svc in COMPOSE["services"].items()
        if name != "store"
        for var in svc.get("environment", {})
        if var.endswith("METRICS_PORT")
    }
    assert port not in ports_in_use
    assert f"127.0.0.1:{port}/healthz" in " ".join(store["healthcheck"]["test"])
    command = store["command"]
    assert command[command.index("--metrics-host") + 1] == "0.0.0.0"
    assert f"{port}:{port}" in store["ports"]


def test_web_serves_the_store_on_the_hosts_loopback_only() -> None:
    web = COMPOSE["services"]["web"]
    assert web["command"] == ["web"]
    assert web["environment"]["MARSAD_WEB_LISTEN"] == "0.0.0.0:8080"
    assert web["environment"]["MARSAD_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert web["ports"] == ["127.0.0.1:8080:8080"]
    assert web["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "/healthz" in " ".join(web["healthcheck"]["test"])
