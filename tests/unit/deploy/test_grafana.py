"""config/grafana/marsad.json is a dashboard Grafana can load, its queries are PromQL that
promtool parses, and every metric they use is one the code registers (a renamed metric fails
here instead of leaving an empty panel)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.deploy.conftest import ROOT, used_names

GRAFANA = ROOT / "config" / "grafana"
DASHBOARD = json.loads((GRAFANA / "marsad.json").read_text(encoding="utf-8"))
PANEL_TYPES = {"row", "timeseries", "stat", "gauge", "table", "bargauge", "heatmap", "text"}


def panels() -> list[dict[str, Any]]:
    return [p for p in DASHBOARD["panels"] if p["type"] != "row"]


def expressions() -> list[str]:
    return [t["expr"] for p in panels() for t in p["targets"]]


def test_is_a_dashboard_grafana_can_load() -> None:
    assert DASHBOARD["uid"] and DASHBOARD["title"]
    assert isinstance(DASHBOARD["schemaVersion"], int) and DASHBOARD["schemaVersion"] >= 36
    ids = [p["id"] for p in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for p in DASHBOARD["panels"]:
        assert p["type"] in PANEL_TYPES, p["title"]
        grid = p["gridPos"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, p["title"]
        assert grid["h"] > 0 and grid["y"] >= 0
    for p in panels():
        assert p["title"] and p["targets"], p["title"]
        assert p["datasource"]["uid"] == "${datasource}", p["title"]
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)) and all(t["expr"].strip() for t in p["targets"])


def test_panels_do_not_overlap() -> None:
    taken: set[tuple[int, int]] = set()
    for p in DASHBOARD["panels"]:
        g = p["gridPos"]
        cells = {
            (x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])
        }
        assert not cells & taken, p["title"]
        taken |= cells


def test_every_metric_used_is_registered_by_the_code(registered_metrics: set[str]) -> None:
    used = used_names(expressions())
    assert used <= registered_metrics, used - registered_metrics


def test_the_whole_pipeline_is_on_it() -> None:
    used = used_names(expressions())
    for room in ("ingest", "stream", "alerts"):
        assert any(name.startswith(f"marsad_{room}_") for name in used), room
    # throughput, lag, dead letters, Slack results, health
    for name in (
        "marsad_stream_articles_extracted_total",
        "marsad_stream_partition_lag",
        "marsad_alerts_consumer_lag",
        "marsad_stream_dlq_messages_total",
        "marsad_alerts_dlq_messages_total",
        "marsad_alerts_slack_calls_total",
        "marsad_stream_stalled",
        "marsad_alerts_stalled",
    ):
        assert name in used, name
    assert any(re.search(r'\bup\{job=~"marsad-', e) for e in expressions())


def test_every_histogram_is_shown_as_quantiles(registered_metrics: set[str]) -> None:
    histograms = {n.removesuffix("_bucket") for n in registered_metrics if n.endswith("_bucket")}
    quantiled = {
        m.group(1)
        for e in expressions()
        for m in re.finditer(r"histogram_quantile\(.*?\b(marsad_[a-z0-9_]+)_bucket\b", e)
    }
    assert histograms == quantiled, histograms ^ quantiled


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_parses_every_query(tmp_path: Path) -> None:
    """Each query as a recording rule: ``promtool check rules`` parses its PromQL (Grafana's
    ``$__rate_interval`` stands in for a range it fills in)."""
    rules = [
        {"record": f"dashboard:query_{i}", "expr": e.replace("$__rate_interval", "5m")}
        for i, e in enumerate(expressions())
    ]
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), "utf-8")
    done = subprocess.run(
        ["promtool", "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules)} rules found" in done.stdout


def test_compose_provisions_the_dashboard_and_its_data_source() -> None:
    source = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    (ds,) = source["datasources"]
    assert ds["type"] == "prometheus" and ds["url"] == "http://prometheus:9090"
    assert DASHBOARD["templating"]["list"][0]["current"]["value"] == ds["uid"]
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/marsad.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    volumes = compose["services"]["grafana"]["volumes"]
    assert f"./config/grafana:{path}:ro" in volumes
    assert "./config/grafana/provisioning:/etc/grafana/provisioning:ro" in volumes
