from collections.abc import Iterator

import pytest

from tests.support.feed_server import FeedServer


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server
