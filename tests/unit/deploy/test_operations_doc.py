"""docs/operations.md documents every metric the services register, and every alert rule."""

from __future__ import annotations

import re

import yaml

from tests.unit.deploy.conftest import ROOT

DOC = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")


def documented() -> set[str]:
    return set(re.findall(r"`(marsad_[a-z0-9_]+)`", DOC))


def test_every_registered_metric_is_in_the_reference(registered_metrics: set[str]) -> None:
    # a histogram is documented by its base name, a counter with its _total
    wanted = {
        n.removesuffix("_bucket")
        for n in registered_metrics
        if not n.endswith(("_created", "_sum", "_count"))
    }
    wanted = {n for n in wanted if n + "_bucket" in registered_metrics or n in registered_metrics}
    missing = {n for n in wanted if n not in documented()}
    assert not missing, sorted(missing)


def test_the_reference_names_no_metric_the_code_lacks(registered_metrics: set[str]) -> None:
    stale = {
        n
        for n in documented()
        if n not in registered_metrics and n + "_bucket" not in registered_metrics
    }
    assert not stale, sorted(stale)


def test_every_alert_rule_is_documented() -> None:
    rules = yaml.safe_load((ROOT / "config/prometheus/alerts.yml").read_text(encoding="utf-8"))
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert f"`{rule['alert']}`" in DOC, rule["alert"]
