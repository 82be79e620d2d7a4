"""config/prometheus: the scrape config and alert rules are what promtool accepts, every alert
is exercised by alerts.test.yml, the rules use only metrics the code registers, and the
scrape targets are the compose services on their metrics ports."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.deploy.conftest import (
    BASE,
    CLUSTER,
    ROOT,
    merged_services,
    needs_compose,
    used_names,
)

PROM = ROOT / "config" / "prometheus"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (Debian: apt-get install prometheus)"
)


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def rules() -> list[dict[str, Any]]:
    return [rule for group in load(PROM / "alerts.yml")["groups"] for rule in group["rules"]]


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=PROM, capture_output=True, text=True, timeout=120, check=False
    )


@needs_promtool
def test_promtool_accepts_the_rules() -> None:
    done = promtool("check", "rules", "alerts.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules())} rules found" in done.stdout


@needs_promtool
def test_promtool_accepts_the_config() -> None:
    done = promtool("check", "config", "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_promtool_unit_tests_of_the_rules_pass() -> None:
    done = promtool("test", "rules", "alerts.test.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_is_tested_firing_and_quiet() -> None:
    fired: set[str] = set()
    quiet: set[str] = set()
    for case in load(PROM / "alerts.test.yml")["tests"]:
        for check in case["alert_rule_test"]:
            (fired if check["exp_alerts"] else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in rules()}
    assert names <= fired, names - fired
    assert names <= quiet, names - quiet


def test_the_issue_asks_for_these_alerts() -> None:
    names = {rule["alert"] for rule in rules()}
    assert {
        "MarsadStreamWorkerStalled",
        "MarsadStreamLagGrowing",
        "MarsadNotifierLagGrowing",
        "MarsadAlertsDeadLettered",
        "MarsadStreamDeadLettered",
        "MarsadSlackFailing",
        "MarsadTargetDown",
    } <= names
    for rule in rules():
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_rules_use_only_metrics_the_code_registers(registered_metrics: set[str]) -> None:
    used = used_names(rule["expr"] for rule in rules())
    assert used, "the rules should use Marsad's metrics"
    assert used <= registered_metrics, used - registered_metrics


PORT_SETTING = {
    "marsad-ingest": "MARSAD_METRICS_PORT",
    "marsad-stream": "MARSAD_STREAM_METRICS_PORT",
    "marsad-alerts": "MARSAD_ALERTS_METRICS_PORT",
    "marsad-store": "MARSAD_STORE_METRICS_PORT",
}


@needs_compose
@pytest.mark.parametrize(("targets", "files"), [("targets", BASE), ("targets-cluster", CLUSTER)])
def test_targets_are_the_compose_services_on_their_metrics_ports(
    targets: str, files: tuple[str, ...]
) -> None:
    services = merged_services(files)
    config = load(PROM / "prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    scraped: set[str] = set()
    for job, setting in PORT_SETTING.items():
        (sd,) = jobs[job]["file_sd_configs"]
        (pattern,) = sd["files"]
        entries = load(PROM / pattern.replace("targets/", f"{targets}/", 1))
        for entry in entries:
            for target in entry["targets"]:
                host, port = target.rsplit(":", 1)
                assert host in services, f"{targets}: {target} is no compose service"
                env = services[host].get("environment", {})
                assert env.get(setting) == port, (targets, host, env.get(setting), port)
                scraped.add(host)
    # every long-running service with a metrics port is scraped
    with_port = {
        name
        for name, spec in services.items()
        if set(spec.get("environment", {})) & set(PORT_SETTING.values())
    }
    assert with_port <= scraped, with_port - scraped
