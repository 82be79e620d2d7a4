"""How many copies a topic gets: all brokers up to three."""

from __future__ import annotations

import pytest

from marsad.topics import replication_for


@pytest.mark.parametrize(("brokers", "copies"), [(0, 1), (1, 1), (2, 2), (3, 3), (5, 3)])
def test_three_copies_or_as_many_as_there_are_brokers(brokers: int, copies: int) -> None:
    assert replication_for(brokers) == copies


class _Admin:
    """A KafkaAdminClient stand-in for a cluster whose answering node has heard of
    ``seen`` brokers while the controller has ``registered`` (refusing more copies)."""

    created: list[tuple[str, int]]
    calls = 0

    def __init__(self, seen: int, registered: list[int]) -> None:
        self.seen, self.registered = seen, registered

    def __call__(self, **_kwargs: object) -> _Admin:
        return self

    def list_topics(self) -> list[str]:
        return [name for name, _ in self.created]

    def describe_cluster(self) -> dict[str, object]:
        return {"brokers": [{"node_id": n} for n in range(self.seen)]}

    def create_topics(self, topics: list[object]) -> None:
        from kafka.errors import InvalidReplicationFactorError

        _Admin.calls += 1
        known = self.registered.pop(0) if len(self.registered) > 1 else self.registered[0]
        for topic in topics:
            if topic.replication_factor > known:  # type: ignore[attr-defined]
                raise InvalidReplicationFactorError(f"{known} brokers registered")
        self.created += [(t.name, t.replication_factor) for t in topics]  # type: ignore[attr-defined]

    def close(self) -> None:
        pass


def _fake_admin(monkeypatch: pytest.MonkeyPatch, seen: int, registered: list[int]) -> _Admin:
    import kafka.admin

    admin = _Admin(seen, registered)
    admin.created = []
    _Admin.calls = 0
    monkeypatch.setattr(kafka.admin, "KafkaAdminClient", admin)
    monkeypatch.setattr("marsad.topics.time.sleep", lambda _s: None)
    return admin


def test_a_floor_of_three_is_kept_when_the_answering_node_has_heard_of_two(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from marsad.topics import create_missing_topics

    admin = _fake_admin(monkeypatch, seen=2, registered=[2, 3])
    created = create_missing_topics("x:1", ["a", "b"], 2, timeout_s=5, replication=3)
    assert created == ["a", "b"]
    assert admin.created == [("a", 3), ("b", 3)]
    assert _Admin.calls == 2  # refused once (two brokers registered), then created


def test_without_a_floor_the_copies_follow_the_brokers_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from marsad.topics import create_missing_topics

    admin = _fake_admin(monkeypatch, seen=1, registered=[1])
    create_missing_topics("x:1", ["a"], 1, timeout_s=5)
    assert admin.created == [("a", 1)]
