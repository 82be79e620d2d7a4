import asyncio
import ipaddress
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from ingest.errors import BlockedURL
from ingest.guard import Guard, address_problem

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
        "169.254.1.1", "0.0.0.0", "100.64.0.1", "224.0.0.1", "::1", "fe80::1", "fc00::1",
        "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::1",
        "64:ff9b::a9fe:a9fe", "::",
    ],
)  # fmt: skip
def test_non_public_addresses_refused(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


def test_metadata_named_specifically() -> None:
    assert address_problem(ipaddress.ip_address("169.254.169.254")) == "a cloud metadata address"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd", "gopher://x/", "ftp://example.com/feed", "javascript:alert(1)",
        "http:///nohost", "http://169.254.169.254/latest/meta-data/", "http://[::1]:8080/",
        "http://metadata.google.internal/computeMetadata/v1/", "http://10.0.0.7/feed",
        "http://[::ffff:7f00:1]/", "http://0x7f.1/",
    ],
)  # fmt: skip
def test_refused_urls(url: str) -> None:
    async def no_dns(host: str, port: int) -> list[str]:
        raise BlockedURL(f"cannot resolve host {host!r}")

    with pytest.raises(BlockedURL):
        run(Guard((), no_dns).check_url(url))


def test_allowed_private_hosts_by_ip_cidr_or_name() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return {"feeds.lan": ["192.168.5.5"], "box.test": ["10.9.9.9"]}[host]

    guard = Guard(("127.0.0.1", "192.168.5.0/24", "box.test"), resolver)
    assert run(guard.check_url("http://127.0.0.1:8080/rss")) == ["127.0.0.1"]
    assert run(guard.check_url("https://feeds.lan/rss")) == ["192.168.5.5"]
    assert run(guard.check_url("https://box.test/rss")) == ["10.9.9.9"]
    with pytest.raises(BlockedURL, match="loopback"):
        run(guard.check_url("http://127.0.0.2/"))  # only 127.0.0.1 was allowed
    with pytest.raises(BlockedURL, match="metadata"):
        run(guard.check_url("http://169.254.169.254/"))


def test_any_private_answer_refuses_the_host() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.5"]

    with pytest.raises(BlockedURL, match=r"10\.0\.0\.5, a private address"):
        run(Guard((), resolver).check_url("https://mixed.example/feed"))


def test_public_host_passes() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    assert run(Guard((), resolver).check_url("https://news.example/rss")) == ["93.184.216.34"]
