"""An httpx transport over aiohttp for the delivery hot path, with the same address guard.

Measured by bench/transport.py on this 2-core machine: signed POSTs to 16 loopback hosts ran
~95/s through httpx's own transport (CPU-bound in httpcore's pool bookkeeping) and ~290/s
through httpx-aiohttp, with the signing unchanged. The rest of the code keeps speaking httpx.

The guard is the one of GuardedNetworkBackend: aiohttp hands every host name to the resolver
and connects only to the addresses it returns, so a name that resolves to a forbidden address
is refused at connect time (no window between a check and the connection). Hosts that are
address literals never reach a resolver; deliver() refuses those in check_url() beforehand.
"""

from __future__ import annotations

import socket

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from httpx_aiohttp import AiohttpTransport

from activitypub.addresses import is_forbidden_text, resolve
from activitypub.client import PRIVATE_ADDRESS_REFUSED, FetchPolicy, UnsafeTargetError


class GuardedResolver(AbstractResolver):
    def __init__(self, policy: FetchPolicy) -> None:
        self._policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await resolve(host, port, self._policy.resolver)
        if not self._policy.allow_private_networks and any(map(is_forbidden_text, addresses)):
            raise UnsafeTargetError(PRIVATE_ADDRESS_REFUSED)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        return None


def guarded_aiohttp_transport(policy: FetchPolicy) -> AiohttpTransport:
    """The session is made on first use, inside the running event loop (aiohttp needs one)."""

    def session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(policy), limit=100)
        return aiohttp.ClientSession(connector=connector, trust_env=False)

    return AiohttpTransport(client=session)
