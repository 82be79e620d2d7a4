"""Each Faust table's changelog topic is known before the worker starts (stream.app), so the
worker creates it with Faust's own configuration instead of racing Faust's assignment."""

from __future__ import annotations

import tempfile

from marsad.settings import Settings
from stream.app import changelog_topics, create_app
from stream.rules import load_rules


def test_every_table_has_its_changelog_with_the_cleanup_policy_faust_gives_it() -> None:
    settings = Settings()
    rules = load_rules(settings.config_dir / "rules.yaml")
    stream_app = create_app(
        settings, rules, bootstrap="127.0.0.1:1", app_id="t-stream", datadir=tempfile.mkdtemp()
    )
    got = changelog_topics(stream_app.app)
    assert set(got) == {t.changelog_topic.get_topic_name() for t in stream_app.app.tables.values()}
    assert got["t-stream-open-incidents-changelog"] == {"cleanup.policy": "compact"}
    assert got["t-stream-fired-alerts-changelog"] == {"cleanup.policy": "compact"}
    windowed = [name for name in got if name.startswith("t-stream-window-") and "fired" not in name]
    assert windowed, "the shipped rules have window and surge rules"
    assert all(got[name]["cleanup.policy"] == "compact,delete" for name in windowed)
