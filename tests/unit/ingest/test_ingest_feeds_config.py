from pathlib import Path

import pytest

from ingest.errors import ConfigError
from ingest.feeds_config import load_config, parse_config

REPO = Path(__file__).resolve().parents[3]


def test_default_feeds_file_is_valid() -> None:
    config = load_config(REPO / "config" / "feeds.yaml")
    assert len(config.feeds) >= 5
    assert config.allowed_private_hosts == []
    assert all(f.url.startswith("https://") for f in config.feeds)


def test_minimal_feed_gets_defaults() -> None:
    config = parse_config({"feeds": [{"name": "A", "url": "https://a.example/rss"}]})
    feed = config.feeds[0]
    assert feed.full_text is False and feed.language is None
    assert config.bounds(feed) == (300.0, 60.0, 1800.0)


def test_explicit_interval_is_the_slowest_poll() -> None:
    raw = {"feeds": [{"name": "A", "url": "http://a/", "interval": 1},
                     {"name": "B", "url": "http://b/", "interval": 120}]}  # fmt: skip
    config = parse_config(raw)
    assert config.bounds(config.feeds[0]) == (1.0, 1.0, 1.0)
    assert config.bounds(config.feeds[1]) == (120.0, 60.0, 120.0)


def test_pinned_interval() -> None:
    raw = {"feeds": [{"name": "A", "url": "http://a/", "interval": 5, "min_interval": 5,
                      "max_interval": 5}]}  # fmt: skip
    config = parse_config(raw)
    assert config.bounds(config.feeds[0]) == (5.0, 5.0, 5.0)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"feeds": [{"name": "A", "url": "ftp://x/feed"}]}, "feeds[0].url (feed 'A'): only http"),
        ({"feeds": [{"name": "A", "url": "file:///etc/passwd"}]}, "only http and https"),
        ({"feeds": [{"name": "A"}]}, "feeds[0].url (feed 'A'): Field required"),
        (
            {"feeds": [{"name": "A", "url": "http://a/"}, {"name": "A", "url": "http://b/"}]},
            "feeds[1].name: duplicate feed name 'A' (first used by feeds[0])",
        ),
        ({"feeds": [{"name": "A", "url": "http://a/", "interval": -3}]}, "feeds[0].interval"),
        ({"feeds": [{"name": "A", "url": "http://a/", "colour": "red"}]}, "feeds[0].colour"),
        ({"feeds": []}, "feeds: List should have at least 1 item"),
        ({"feedz": []}, "feeds: Field required"),
        ([1, 2], "expected a mapping"),
    ],
)
def test_errors_name_the_feed_and_field(raw: object, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, "feeds.yaml")
    assert expected in str(info.value)
    assert str(info.value).startswith("feeds.yaml: ")


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read feeds file"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("feeds: [\n  - name: x\n  url", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
