"""Outgoing HTTP: fetch() and deliver(), the only network code, with the private-address guard
(what counts as a private address is in addresses.py).

Every URL we are told to fetch comes from a remote document, so each one is treated as hostile:
`check_url` refuses non-http(s) schemes and hosts that are, or resolve to, loopback, private,
link-local (cloud metadata), multicast or reserved addresses. It runs on the first URL and on
every redirect target. Because a name can resolve to a public address for the check and to a
private one a moment later (DNS rebinding), `make_client` also vets the address at connect time,
in a network backend under httpx, and connects to the address it vetted.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpcore
import httpx

from activitypub.addresses import Resolver, is_forbidden_text, resolve
from activitypub.hostlimit import PerHostLimit
from activitypub.vocab import ACTIVITY_JSON, AS_PROFILE, Document

PRIVATE_ADDRESS_REFUSED = "private address refused"
DEFAULT_ACCEPT = f"{AS_PROFILE}, {ACTIVITY_JSON}"
DEFAULT_PORTS = {"http": 80, "https": 443}
DELIVERY_BODY_EXCERPT_BYTES = 1024


class FetchError(Exception):
    """A fetch failed; `reason` is short and stable enough to log and to test."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class UnsafeTargetError(FetchError):
    """The target is refused by the guard: a forbidden scheme or address."""


@dataclass(frozen=True)
class FetchPolicy:
    """What outgoing requests may reach and how much they may cost."""

    allow_private_networks: bool = False
    max_redirects: int = 3
    max_response_bytes: int = 1_048_576
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    # Bounds a server that drips bytes just under read_timeout.
    total_timeout: float = 30.0
    allowed_schemes: frozenset[str] = frozenset({"http", "https"})
    resolver: Resolver | None = None
    # Requests in flight to one host at once, per process (activitypub/hostlimit.py).
    max_per_host: int = 8

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.read_timeout, connect=self.connect_timeout)


@dataclass(frozen=True)
class Fetched:
    """A fetched document and the URL that finally served it (after any redirects): who may
    speak for a document is decided by that URL's origin, never by the first one asked."""

    url: str
    document: Document


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one POST to an inbox; `error` is None only for a 2xx answer."""

    status: int | None
    retry_after: datetime | float | None = None
    error: str | None = None
    detail: str = ""
    # The signature scheme a 2xx answer came back to (activitypub/auth.py), when known.
    signed_with: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _parse_url(url: httpx.URL | str) -> httpx.URL:
    try:
        return httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FetchError("invalid url") from exc


async def check_url(url: httpx.URL | str, policy: FetchPolicy) -> None:
    """Refuse a URL whose scheme is not allowed or whose host is or resolves to a private one."""
    url = _parse_url(url)
    if url.scheme not in policy.allowed_schemes:
        raise UnsafeTargetError("scheme not allowed")
    host = url.raw_host.decode("ascii").rstrip(".").lower()
    if not host:
        raise FetchError("invalid url")
    if policy.allow_private_networks:
        return
    if host == "localhost" or host.endswith(".localhost"):
        raise UnsafeTargetError(PRIVATE_ADDRESS_REFUSED)
    try:
        async with asyncio.timeout(policy.connect_timeout):
            addresses = await resolve(host, url.port or DEFAULT_PORTS[url.scheme], policy.resolver)
    except TimeoutError as exc:
        raise FetchError("timeout") from exc
    except OSError as exc:
        raise FetchError("unresolvable host") from exc
    if any(is_forbidden_text(address) for address in addresses):
        raise UnsafeTargetError(PRIVATE_ADDRESS_REFUSED)


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves, vets and connects in one step, so the vetted address is the one connected to.

    A forbidden address raises UnsafeTargetError, which httpcore and httpx pass through
    unchanged (they only translate their own exceptions).
    """

    def __init__(
        self, policy: FetchPolicy, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self._policy = policy
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        last_error = httpcore.ConnectError(f"no address for {host}")
        for address in await self._vetted_addresses(host, port, timeout):
            try:
                # TLS still verifies and sends SNI for the hostname: httpcore passes the
                # origin's host to start_tls, not the address we connect to.
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                last_error = exc
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeTargetError("unix sockets not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)

    async def _vetted_addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve(host, port, self._policy.resolver)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if not self._policy.allow_private_networks and any(map(is_forbidden_text, addresses)):
            raise UnsafeTargetError(PRIVATE_ADDRESS_REFUSED)
        return addresses


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with its connection pool built on GuardedNetworkBackend."""

    def __init__(self, policy: FetchPolicy) -> None:
        super().__init__()
        limits = httpx.Limits()
        # httpx offers no network_backend option; swapping the pool it built keeps its
        # request/response mapping and exception translation. test_client's rebinding
        # tests fail if httpx ever renames `_pool`.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(policy),
        )


def make_client(
    policy: FetchPolicy,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    user_agent: str,
) -> httpx.AsyncClient:
    """An AsyncClient for fetch() and deliver(); tests pass a MockTransport or ASGITransport."""
    return httpx.AsyncClient(
        transport=PerHostLimit(transport or GuardedTransport(policy), policy.max_per_host),
        headers={"User-Agent": user_agent},
        timeout=policy.timeout(),
        follow_redirects=False,
        # An environment proxy would be connected to instead of the vetted address.
        trust_env=False,
    )


def _request_error_reason(exc: httpx.RequestError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect failed"
    return "request failed"


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    policy: FetchPolicy,
    *,
    accept: str = DEFAULT_ACCEPT,
    auth: httpx.Auth | None = None,
    same_origin: bool = False,
) -> Document:
    """GET a JSON object, following at most policy.max_redirects redirects, each one checked.

    With `same_origin`, a redirect to another scheme, host or port is refused: callers that
    trust a document because of where it was fetched from need this, or an open redirect on
    that host would let any server answer for it. Raises FetchError (UnsafeTargetError when
    the guard refuses a hop).
    """
    located = await fetch_located(
        client, url, policy, accept=accept, auth=auth, same_origin=same_origin
    )
    return located.document


async def fetch_located(
    client: httpx.AsyncClient,
    url: str,
    policy: FetchPolicy,
    *,
    accept: str = DEFAULT_ACCEPT,
    auth: httpx.Auth | None = None,
    same_origin: bool = False,
) -> Fetched:
    """fetch(), also returning the URL the document finally came from."""

    async def read(response: httpx.Response) -> Document:
        return await _read_json_object(response, policy)

    final_url, document = await _guarded(client, url, policy, accept, auth, same_origin, read)
    return Fetched(final_url, document)


async def _guarded(
    client: httpx.AsyncClient,
    url: str,
    policy: FetchPolicy,
    accept: str,
    auth: httpx.Auth | None,
    same_origin: bool,
    read: Callable[[httpx.Response], Awaitable[Any]],
) -> tuple[str, Any]:
    """GET url, following at most policy.max_redirects redirects, each one checked; `read`
    turns the final response into the result. Returns (the URL that answered, the result)."""
    try:
        async with asyncio.timeout(policy.total_timeout):
            first = current = _parse_url(url)
            for _hop in range(policy.max_redirects + 1):
                await check_url(current, policy)
                origin = (current.scheme, current.host, current.port)
                if same_origin and origin != (first.scheme, first.host, first.port):
                    raise FetchError("cross-origin redirect")
                request = client.build_request(
                    "GET", current, headers={"Accept": accept}, timeout=policy.timeout()
                )
                # A new request per hop, so auth signs each one for its own host and path.
                response = await client.send(
                    request, auth=auth, follow_redirects=False, stream=True
                )
                try:
                    if not response.is_redirect:
                        return str(current), await read(response)
                    current = _redirect_target(current, response.headers["Location"])
                finally:
                    await response.aclose()
            raise FetchError("too many redirects")
    except TimeoutError as exc:
        raise FetchError("timeout") from exc
    except httpx.RequestError as exc:
        raise FetchError(_request_error_reason(exc)) from exc


async def fetch_file(
    client: httpx.AsyncClient, url: str, policy: FetchPolicy, *, max_bytes: int, accept: str
) -> bytes:
    """GET a file (a picture), guarded and capped like fetch(); raises FetchError."""

    async def read(response: httpx.Response) -> bytes:
        if not response.is_success:
            raise FetchError(f"http {response.status_code}", status=response.status_code)
        body = await _read_at_most(response, max_bytes)
        if body is None:
            raise FetchError("response too large")
        return body

    _, body = await _guarded(client, url, policy, accept, None, False, read)
    assert isinstance(body, bytes)
    return body


def _redirect_target(current: httpx.URL, location: str) -> httpx.URL:
    try:
        return current.join(location)
    except httpx.InvalidURL as exc:
        raise FetchError("invalid redirect") from exc


async def _read_json_object(response: httpx.Response, policy: FetchPolicy) -> Document:
    if not response.is_success:
        raise FetchError(f"http {response.status_code}", status=response.status_code)
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > policy.max_response_bytes:
        raise FetchError("response too large")
    body = await _read_at_most(response, policy.max_response_bytes)
    if body is None:
        raise FetchError("response too large")
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise FetchError("not json") from exc
    except RecursionError as exc:  # json's C decoder recurses once per nesting level
        raise FetchError("json nested too deeply") from exc
    if not isinstance(document, dict):
        raise FetchError("not json")
    return document


async def _read_at_most(response: httpx.Response, limit: int) -> bytes | None:
    """The decoded body, or None once it grows past limit (so compression cannot evade it)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def parse_retry_after(value: str | None) -> datetime | float | None:
    """Retry-After as delay seconds or an aware HTTP-date; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


async def deliver(
    client: httpx.AsyncClient,
    inbox_url: str,
    body: bytes,
    policy: FetchPolicy,
    *,
    auth: httpx.Auth | None = None,
) -> DeliveryResult:
    """POST an activity to an inbox; never raises for the remote's or the network's failures.

    A refused target is reported like any other failure, as
    DeliveryResult(status=None, error="private address refused"), and nothing is sent: the
    caller's retry policy decides what to do with it. Redirects are not followed; a 3xx is
    reported as its status.
    """
    try:
        await check_url(inbox_url, policy)
        async with asyncio.timeout(policy.total_timeout):
            return await _post(client, inbox_url, body, policy, auth)
    except FetchError as exc:
        return DeliveryResult(status=None, error=exc.reason)
    except TimeoutError:
        return DeliveryResult(status=None, error="timeout")
    except httpx.RequestError as exc:
        return DeliveryResult(status=None, error=_request_error_reason(exc), detail=str(exc))


async def _post(
    client: httpx.AsyncClient,
    inbox_url: str,
    body: bytes,
    policy: FetchPolicy,
    auth: httpx.Auth | None,
) -> DeliveryResult:
    request = client.build_request(
        "POST",
        inbox_url,
        content=body,
        headers={"Content-Type": ACTIVITY_JSON, "Accept": DEFAULT_ACCEPT},
        timeout=policy.timeout(),
    )
    response = await client.send(request, auth=auth, follow_redirects=False, stream=True)
    try:
        excerpt = await _read_excerpt(response)
    finally:
        await response.aclose()
    status = response.status_code
    return DeliveryResult(
        status=status,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
        error=None if response.is_success else f"http {status}",
        detail="" if response.is_success else excerpt,
    )


async def _read_excerpt(response: httpx.Response) -> str:
    """The start of an inbox's answer, kept for the delivery log; the rest is not read."""
    excerpt = b""
    async for chunk in response.aiter_bytes():
        excerpt += chunk
        if len(excerpt) >= DELIVERY_BODY_EXCERPT_BYTES:
            break
    return excerpt[:DELIVERY_BODY_EXCERPT_BYTES].decode("utf-8", "replace")
