"""Which addresses the node may reach: only plain public unicast ones, in every spelling.

Shared by the fetch guard (client.py, httpx) and the delivery transport (aiohttp_transport.py):
a host is resolved once, each address is vetted, and only vetted addresses are connected to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# RFC 6052 well-known NAT64 prefix: the IPv4 address it reaches is embedded in the low 32 bits.
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


def is_forbidden_address(ip: IPAddress) -> bool:
    """True for any address that is not a plain public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or _nat64_ipv4(ip)
        if embedded is not None:
            return is_forbidden_address(embedded)
        if ip.sixtofour is not None and is_forbidden_address(ip.sixtofour):
            return True
        if ip.is_site_local:
            return True
    # is_global alone misses multicast, and its exact ranges changed between Python releases.
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_multicast
        or ip.is_reserved
        or not ip.is_global
    )


def _nat64_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip not in NAT64_PREFIX:
        return None
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)


def is_forbidden_text(address: str) -> bool:
    """An address given as text; anything that is not an address is forbidden too."""
    try:
        return is_forbidden_address(ipaddress.ip_address(address))
    except ValueError:
        return True


async def resolve_host(host: str, port: int) -> list[str]:
    """The default resolver: the system's getaddrinfo, without blocking the event loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def ip_literal(host: str) -> IPAddress | None:
    """The address a host names by itself, in any spelling the C resolver accepts.

    getaddrinfo reads "2130706433", "0x7f.1" and "0177.0.0.1" as 127.0.0.1 (inet_aton forms;
    browsers' URL parser does the same), so such hosts are addresses, not names to resolve.
    """
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if not host or host.strip("0123456789abcdefxABCDEFX.") or "." * 2 in host:
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


async def resolve(host: str, port: int, resolver: Resolver | None = None) -> list[str]:
    """IP strings for host (an address literal is its own answer); raises OSError when it
    cannot be resolved. `resolver` defaults to the system's."""
    literal = ip_literal(host)
    if literal is not None:
        return [str(literal)]
    addresses = await (resolver or resolve_host)(host, port)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, f"no address for {host}")
    return addresses
