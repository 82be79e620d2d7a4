"""Which URLs may be fetched: the SSRF policy, applied to every request and every redirect hop.

Feeds and the article pages they link to are hostile input: a feed item (or a redirect) can
point at ``http://169.254.169.254/`` (cloud metadata), ``http://127.0.0.1:6379/`` or a host
whose DNS name resolves to a private address.  The policy is: only ``http``/``https``; every
address a host resolves to must be globally routable, unless it (or the host name) is listed
in ``allowed_private_hosts``.  The check runs twice: before each hop (clear error, no
connection attempted) and again at connect time on the address actually dialled
(:class:`GuardedBackend`), so a DNS answer that changes between the two (rebinding) is still
refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ingest.errors import BlockedURL, UnresolvableHost

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

ALLOWED_SCHEMES = frozenset({"http", "https"})

#: Metadata endpoints named explicitly: some are not "private" by the ipaddress module's
#: tables on every Python version, and they are the most valuable target of all.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the event loop's getaddrinfo)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnresolvableHost(f"cannot resolve host {host!r}: {exc.strerror or exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _unwrap(ip: IPAddress) -> IPAddress:
    """IPv4 hidden inside IPv6 (``::ffff:127.0.0.1``, 6to4, NAT64 well-known prefix)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip in ipaddress.ip_network("64:ff9b::/96"):
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def address_problem(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be dialled, or None when it is a public address."""
    inner = _unwrap(ip)
    for candidate in {ip, inner}:
        if candidate in METADATA_ADDRESSES:
            return "a cloud metadata address"
        if candidate.is_loopback:
            return "a loopback address"
        if candidate.is_link_local:
            return "a link-local address"
        if candidate.is_unspecified:
            return "an unspecified address"
        if candidate.is_multicast:
            return "a multicast address"
        if candidate.is_private:
            return "a private address"
        if candidate.is_reserved or not candidate.is_global:
            return "a non-public address"
    return None


@dataclass(frozen=True)
class Guard:
    """The policy: allowed exceptions (names, IPs or CIDRs) plus the resolver to use."""

    allowed_private_hosts: tuple[str, ...] = ()
    resolver: Resolver = system_resolver
    _networks: tuple[IPNetwork, ...] = field(init=False, repr=False, default=())
    _names: frozenset[str] = field(init=False, repr=False, default=frozenset())

    def __post_init__(self) -> None:
        networks: list[IPNetwork] = []
        names: set[str] = set()
        for entry in self.allowed_private_hosts:
            text = entry.strip().strip("[]")
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                names.add(text.lower().rstrip("."))
        object.__setattr__(self, "_networks", tuple(networks))
        object.__setattr__(self, "_names", frozenset(names))

    @classmethod
    def allowing(cls, hosts: Iterable[str], resolver: Resolver | None = None) -> Guard:
        return cls(tuple(hosts), resolver or system_resolver)

    def ip_allowed(self, ip: IPAddress) -> bool:
        return any(ip in net or _unwrap(ip) in net for net in self._networks)

    def check_address(self, host: str, address: str) -> None:
        """Raise :class:`BlockedURL` unless ``address`` (one of ``host``'s) may be dialled."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        problem = address_problem(ip)
        if problem is None:
            return
        if host.lower().rstrip(".") in self._names or self.ip_allowed(ip):
            return
        raise BlockedURL(f"host {host!r} resolves to {ip}, {problem}; refused")

    def check_url_syntax(self, url: str) -> tuple[str, int]:
        """Scheme and host checks that need no DNS; returns (host, port)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise BlockedURL(f"malformed URL {url!r}: {exc}") from exc
        if parts.scheme.lower() not in ALLOWED_SCHEMES:
            raise BlockedURL(f"scheme {parts.scheme or '(none)'!r} refused: only http/https")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise BlockedURL(f"URL has no host: {url!r}")
        if host.lower() in METADATA_HOSTS and host.lower() not in self._names:
            raise BlockedURL(f"host {host!r} is a cloud metadata name; refused")
        if port is None:
            port = 443 if parts.scheme.lower() == "https" else 80
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            return host, port
        self.check_address(host, str(literal))
        return host, port

    async def check_url(self, url: str) -> list[str]:
        """Full check of one hop: syntax, then every resolved address. Returns the addresses."""
        host, port = self.check_url_syntax(url)
        addresses = await self.resolve(host, port)
        return addresses

    async def resolve(self, host: str, port: int) -> list[str]:
        """Resolve ``host`` and refuse if ANY of its addresses is refused (no partial trust)."""
        try:
            ipaddress.ip_address(host)
            addresses = [host]
        except ValueError:
            addresses = await self.resolver(host, port)
        if not addresses:
            raise BlockedURL(f"host {host!r} resolved to no address")
        for address in addresses:
            self.check_address(host, address)
        return addresses


class GuardedBackend:
    """An httpcore network backend that dials only addresses the guard accepts.

    httpcore passes the origin host to ``connect_tcp``; we resolve it ourselves, check every
    address and dial the checked one.  TLS still uses the origin host name for SNI and
    certificate checks (httpcore passes it to ``start_tls`` separately).
    """

    def __init__(self, inner: Any, guard: Guard) -> None:
        self._inner = inner
        self._guard = guard

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> Any:
        addresses = await self._guard.resolve(host, port)
        last: Exception | None = None
        for address in addresses:  # every one was checked; try them in resolver order
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except Exception as exc:  # OSError, httpcore's ConnectError / ConnectTimeout
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> Any:
        raise BlockedURL("unix sockets are never dialled by the feed fetcher")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
