"""deliver() on aiohttp directly, for the delivery hot path, with the same address guard.

Measured by bench/transport.py on this 2-core machine (signed POSTs to 16 loopback hosts):
httpx's own transport ~95/s (CPU-bound in httpcore's pool bookkeeping), httpx over aiohttp
(httpx-aiohttp) ~290/s, aiohttp directly ~390/s, with the signing unchanged. Only deliveries
take this path; fetch() and everything else keep speaking httpx (client.py).

The guard is the one of GuardedNetworkBackend: aiohttp hands every host name to the resolver
and connects only to the addresses it returns, so a name that resolves to a forbidden address
is refused at connect time (no window between a check and the connection). Hosts that are
address literals never reach a resolver; deliver() refuses those beforehand (_target), from the
URL it parses once and posts to. It does not resolve names itself, as client.check_url() does:
the resolver at connect time is the check, and aiohttp keeps its answers for a few seconds, so
a fan-out to one host costs one lookup, not one per delivery.
"""

from __future__ import annotations

import asyncio
import functools
import socket
from datetime import UTC, datetime
from types import TracebackType

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from activitypub.addresses import ip_literal, is_forbidden_address, is_forbidden_text, resolve
from activitypub.auth import KNOCK_AGAIN, knock_order, signature_headers
from activitypub.client import (
    DEFAULT_ACCEPT,
    DELIVERY_BODY_EXCERPT_BYTES,
    PRIVATE_ADDRESS_REFUSED,
    DeliveryResult,
    FetchError,
    FetchPolicy,
    UnsafeTargetError,
    parse_retry_after,
)
from activitypub.keys import PrivateKey
from activitypub.signing_threads import SigningThreads
from activitypub.vocab import ACTIVITY_JSON


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


def _target(inbox_url: str, policy: FetchPolicy) -> URL:
    """The inbox URL, parsed once: refused here when its scheme is not allowed or its host is a
    forbidden address literal or a localhost name; a name is vetted by GuardedResolver."""
    try:
        url = URL(inbox_url)
    except (ValueError, TypeError) as exc:
        raise FetchError("invalid url") from exc
    if url.scheme not in policy.allowed_schemes:
        raise UnsafeTargetError("scheme not allowed")
    host = (url.raw_host or "").rstrip(".").lower()
    if not host:
        raise FetchError("invalid url")
    if policy.allow_private_networks:
        return url
    literal = ip_literal(host)
    if (literal is not None and is_forbidden_address(literal)) or (
        host == "localhost" or host.endswith(".localhost")
    ):
        raise UnsafeTargetError(PRIVATE_ADDRESS_REFUSED)
    return url


def _failure(exc: aiohttp.ClientConnectionError) -> str:
    if not isinstance(exc, aiohttp.ClientConnectorError):
        return "request failed"
    # The resolver's own failure: named as client.check_url() names it
    return "unresolvable host" if isinstance(exc.os_error, socket.gaierror) else "connect failed"


class Deliverer:
    """POSTs signed activities to inboxes over one aiohttp session (made on first use, inside
    the running event loop, as aiohttp needs); use as `async with Deliverer(...) as d:`.

    At most `policy.max_per_host` connections per host, as PerHostLimit does for httpx.

    Signatures are made on `signing_threads` threads beside the event loop (0: on the loop).
    RSA signing, most of a delivery's cost, runs without the GIL (pyca/cryptography), so the
    loop sends, reads answers and keeps serving requests while a signature is made, on another
    core where there is one."""

    def __init__(self, policy: FetchPolicy, *, user_agent: str, signing_threads: int = 1) -> None:
        self._policy = policy
        self._signer = SigningThreads(signing_threads) if signing_threads else None
        # Sent with every request: the session's own headers, so a request adds only its
        # signature's; signing reads them too (draft-cavage may cover any header).
        self._headers = {
            "User-Agent": user_agent,
            "Content-Type": ACTIVITY_JSON,
            "Accept": DEFAULT_ACCEPT,
        }
        # total_timeout bounds a delivery, both knocks together: the first request gets all of
        # it, a second knock what is left (aiohttp's own total covers reading the answer too).
        self._timeout = self._timeout_of(policy.total_timeout)
        self._session: aiohttp.ClientSession | None = None

    def _timeout_of(self, total: float) -> aiohttp.ClientTimeout:
        policy = self._policy
        return aiohttp.ClientTimeout(
            total=total, sock_connect=policy.connect_timeout, sock_read=policy.read_timeout
        )

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(self._policy),
                limit=100,
                limit_per_host=self._policy.max_per_host,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                timeout=self._timeout,
                # an inbox that sets a cookie gets none back: deliveries carry no state
                cookie_jar=aiohttp.DummyCookieJar(),
                # an environment proxy would be connected to, not the vetted address
                trust_env=False,
            )
        return self._session

    async def deliver(
        self,
        inbox_url: str,
        body: bytes,
        key: PrivateKey,
        *,
        now: datetime | None = None,
        known: str | None = None,
    ) -> DeliveryResult:
        """client.deliver() with the signature made here, just before sending: never raises
        for the remote's or the network's failures; redirects are reported, not followed.

        Knocks twice (activitypub/auth.py): RFC 9421 first unless `known` says the host takes
        only draft-cavage; the result's `signed_with` names the scheme a 2xx answered."""
        try:
            target = _target(inbox_url, self._policy)
            return await self._knock(inbox_url, target, body, key, now, known)
        except FetchError as exc:
            return DeliveryResult(status=None, error=exc.reason)
        except TimeoutError:
            return DeliveryResult(status=None, error="timeout")
        except aiohttp.ClientConnectionError as exc:
            return DeliveryResult(status=None, error=_failure(exc), detail=str(exc))
        except aiohttp.ClientError as exc:
            return DeliveryResult(status=None, error="request failed", detail=str(exc))

    async def _knock(
        self,
        inbox_url: str,
        target: URL,
        body: bytes,
        key: PrivateKey,
        now: datetime | None,
        known: str | None,
    ) -> DeliveryResult:
        result = DeliveryResult(status=None, error="not sent")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._policy.total_timeout
        for knock, scheme in enumerate(knock_order(known)):
            timeout = self._timeout
            if knock:  # the second knock gets what the first left of total_timeout
                left = deadline - loop.time()
                if left <= 0:
                    raise TimeoutError
                timeout = self._timeout_of(left)
            moment = now or datetime.now(UTC)
            signed = await self._sign(scheme, inbox_url, body, key, moment)
            result = await self._post(target, body, signed, timeout, scheme)
            if result.ok or result.status not in KNOCK_AGAIN:
                break
        return result

    async def _sign(
        self, scheme: str, inbox_url: str, body: bytes, key: PrivateKey, moment: datetime
    ) -> dict[str, str]:
        headers = self._headers
        if self._signer is None:
            return signature_headers(scheme, "POST", inbox_url, headers, body, key, moment)
        return await self._signer.run(
            functools.partial(
                signature_headers, scheme, "POST", inbox_url, headers, body, key, moment
            )
        )

    async def _post(
        self,
        target: URL,
        body: bytes,
        signed: dict[str, str],
        timeout: aiohttp.ClientTimeout,
        scheme: str,
    ) -> DeliveryResult:
        session = self._open()
        async with session.post(
            target, data=body, headers=signed, allow_redirects=False, timeout=timeout
        ) as response:
            excerpt = b""  # the start of the answer, for the delivery log; the rest is not read
            while len(excerpt) < DELIVERY_BODY_EXCERPT_BYTES:
                chunk = await response.content.read(DELIVERY_BODY_EXCERPT_BYTES - len(excerpt))
                if not chunk:
                    break
                excerpt += chunk
            status = response.status
            ok = 200 <= status < 300
            return DeliveryResult(
                status=status,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                error=None if ok else f"http {status}",
                detail="" if ok else excerpt.decode("utf-8", "replace"),
                signed_with=scheme if ok else None,
            )

    async def aclose(self) -> None:
        if self._signer is not None:
            self._signer.close()  # its threads start again if the deliverer is used again
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Deliverer:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
