from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import ingest.cli
from ingest.cli import CONFIG_EXIT, ingest_cmd
from ingest.publish import MemoryPublisher
from tests.support.feed_server import FeedServer


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> MemoryPublisher:
    publisher = MemoryPublisher()
    monkeypatch.setattr(ingest.cli, "KafkaPublisher", lambda bootstrap, topic: publisher)
    monkeypatch.setattr(ingest.cli, "_ensure_topics", lambda bootstrap, settings: None)
    return publisher


def write_feeds(path: Path, feeds: list[dict[str, object]]) -> Path:
    path.write_text(
        yaml.safe_dump({"allowed_private_hosts": ["127.0.0.1"], "feeds": feeds}),
        encoding="utf-8",
    )
    return path


def test_once_prints_one_line_per_feed(
    feed_server: FeedServer, memory: MemoryPublisher, tmp_path: Path
) -> None:
    feeds = write_feeds(
        tmp_path / "feeds.yaml",
        [
            {"name": "Good", "url": feed_server.add_feed("g", items=2)},
            {"name": "Html", "url": feed_server.add_feed("h", fault="html")},
        ],
    )
    args = ["--once", "--feeds", str(feeds), "--bootstrap", "x:1",
            "--state", str(tmp_path / "s.sqlite")]  # fmt: skip
    result = CliRunner().invoke(ingest_cmd, args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("Good\tok\tnew=2")
    assert lines[1].startswith("Html\tparse_error\tnew=0") and "HTML page" in lines[1]
    assert len(memory.articles) == 2

    again = CliRunner().invoke(ingest_cmd, args)
    assert again.stdout.startswith("Good\tnot_modified\tnew=0")


def test_configuration_error_exits_non_zero(tmp_path: Path, memory: MemoryPublisher) -> None:
    feeds = write_feeds(tmp_path / "feeds.yaml", [{"name": "X", "url": "gopher://x/"}])
    result = CliRunner().invoke(ingest_cmd, ["--once", "--feeds", str(feeds)])
    assert result.exit_code == CONFIG_EXIT
    assert "configuration error" in result.stderr and "feeds[0].url (feed 'X')" in result.stderr
    missing = CliRunner().invoke(ingest_cmd, ["--once", "--feeds", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == CONFIG_EXIT and "cannot read feeds file" in missing.stderr
