from pathlib import Path

from ingest.state import FeedState, StateStore


def test_state_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "home" / "ingest-state.sqlite"
    store = StateStore(path)
    state = FeedState(
        "A", "http://a/", '"e1"', "Mon, 01 Jan 2026 00:00:00 GMT", 90, 1234.5, 0, "ok"
    )
    store.commit_poll(state, ["id1", "id2", "t:abc"])
    store.close()
    again = StateStore(path)
    assert again.feed("A") == state
    assert again.seen_keys(["id1", "id9", "t:abc"]) == {"id1", "t:abc"}
    again.close()


def test_seen_is_bounded(tmp_path: Path) -> None:
    store = StateStore(None, max_seen=100)
    state = FeedState("A", "http://a/", None, None, 60, 0)
    for batch in range(5):
        store.commit_poll(state, [f"k{batch}-{i}" for i in range(50)])
    store.prune()
    assert store.seen_count() == 100
    assert store.seen_keys(["k4-0", "k0-0"]) == {"k4-0"}  # oldest pruned first


def test_seen_keys_handles_many() -> None:
    store = StateStore(None)
    keys = [f"k{i}" for i in range(1500)]
    store.commit_poll(FeedState("A", "u", None, None, 60, 0), keys[::2])
    assert len(store.seen_keys(keys)) == 750
