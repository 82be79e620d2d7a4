"""Routing: first match wins, conditions AND-ed, values OR-ed; bad files fail loudly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from alerts import routing
from marsad.records import Alert
from marsad.settings import PROJECT_ROOT
from tests.support import alert_samples as samples

CONFIG = """
default_channel: "#general-alerts"
routes:
  - name: critical
    match: {severities: [critical], rules: [incident_toll]}
    channel: "#crit"
  - match: {governorates: [SY-DY, SY-RA]}
    channel: "#east"
  - match: {actors: [TURKEY]}
    channel: C0TURKEY1
"""


def alert(**kw: Any) -> Alert:
    return Alert.from_json(samples.alert(**kw))


def test_first_matching_route_wins() -> None:
    cfg = routing.parse(CONFIG)
    assert cfg.channel_for(alert()) == "#crit"
    assert cfg.channel_for(alert(severity="warning")) == "#east"
    assert cfg.channel_for(alert(rule="other", severity="critical")) == "#east"


def test_actor_matches_perpetrator_or_target_and_default_applies() -> None:
    cfg = routing.parse(CONFIG)
    west = samples.incident(location={"name_ar": "عفرين", "name_en": "Afrin", "admin1": "SY-HL"})
    assert cfg.channel_for(alert(severity="info", incident=west)) == "#general-alerts"
    by_turkey = dict(west, perpetrator="TURKEY", targets=["SDF"])
    assert cfg.channel_for(alert(severity="info", incident=by_turkey)) == "C0TURKEY1"
    on_turkey = dict(west, perpetrator="SDF", targets=["TURKEY"])
    assert cfg.channel_for(alert(severity="info", incident=on_turkey)) == "C0TURKEY1"


def test_window_alerts_route_by_their_group() -> None:
    cfg = routing.parse(CONFIG)
    nowhere = alert(severity="warning", incident=None, kind="window")
    assert cfg.channel_for(nowhere) == "#general-alerts"
    east = alert(severity="info", incident=None, window={"group_by": "admin1", "group": "SY-RA"})
    assert cfg.channel_for(east) == "#east"
    by_actor = {"group_by": "perpetrator", "group": "TURKEY"}
    assert cfg.channel_for(alert(severity="info", incident=None, window=by_actor)) == "C0TURKEY1"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("routes: []", "default_channel: Field required"),
        ('default_channel: "general"', "not a channel"),
        ('default_channel: "#a"\nroutes: [{match: {actors: [NATO]}, channel: "#b"}]', "NATO"),
        ('default_channel: "#a"\nroutes: [{match: {governorates: [Deir]}, channel: "#b"}]', "ISO"),
        ('default_channel: "#a"\nroutes: [{match: {colour: [red]}, channel: "#b"}]', "colour"),
        ('default_channel: "#a"\nroutes: [{match: {severities: [loud]}, channel: "#b"}]', "loud"),
        ("default_channel: [unclosed", "not valid YAML"),
        ("- just a list", "expected a mapping"),
    ],
)
def test_bad_files_name_the_problem(text: str, needle: str) -> None:
    with pytest.raises(routing.RoutingError) as err:
        routing.parse(text, "routing.yaml")
    assert "routing.yaml" in str(err.value)
    assert needle in str(err.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(routing.RoutingError, match="cannot read routing file"):
        routing.load(tmp_path / "nope.yaml")


def test_shipped_routing_file_is_valid() -> None:
    cfg = routing.load(PROJECT_ROOT / "config" / "routing.yaml")
    assert cfg.default_channel.startswith("#")
    assert cfg.channel_for(alert()) == "#marsad-critical"


def test_a_bad_route_is_reported_at_its_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(
        'default_channel: "#a"\nroutes:\n  - match: {severities: [critical]}\n'
        '    channel: "#b"\n  - match: {actors: [NATO]}\n    channel: "#c"\n',
        encoding="utf-8",
    )
    with pytest.raises(routing.RoutingError) as err:
        routing.load(path)
    assert str(err.value).startswith(f"{path}:5: routes.1.match.actors: unknown actor codes")
    assert (err.value.path, err.value.line) == (path, 5)
