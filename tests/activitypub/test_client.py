"""fetch() and deliver() against fake remotes, and the private-address guard at both levels.

Remote servers are httpx.MockTransport handlers; names resolve through an injected table since
this machine has no DNS. The connect-time guard is tested against a real socket server.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from activitypub.addresses import Resolver, is_forbidden_address, resolve_host
from activitypub.client import (
    DeliveryResult,
    FetchError,
    FetchPolicy,
    UnsafeTargetError,
    check_url,
    deliver,
    fetch,
    make_client,
    parse_retry_after,
)
from activitypub.vocab import ACTIVITY_JSON, AS_PROFILE, JRD_JSON, Document

PUBLIC_IP = "93.184.216.34"
ACTOR = {"id": "https://public.example/actor", "type": "Person"}


def table_resolver(table: dict[str, list[str]]) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not in the test table")
        return table[host]

    return resolve


RESOLVER = table_resolver(
    {
        "public.example": [PUBLIC_IP],
        "other.example": ["2606:4700::1111"],
        "internal.example": ["10.1.2.3"],
        "mixed.example": [PUBLIC_IP, "10.0.0.7"],
    }
)
POLICY = FetchPolicy(resolver=RESOLVER)

Route = Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeRemote:
    """Remote servers behind a MockTransport: answers by full URL, records every request."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get(str(request.url))
        return route(request) if route else httpx.Response(404)

    @property
    def urls(self) -> list[str]:
        return [str(request.url) for request in self.requests]

    def client(self, policy: FetchPolicy = POLICY) -> httpx.AsyncClient:
        transport = httpx.MockTransport(self.handle)
        return make_client(policy, transport=transport, user_agent="conode-test")


def answer_json(document: Any, status: int = 200) -> Route:
    return lambda request: httpx.Response(status, json=document)


def redirect_to(location: str, status: int = 302) -> Route:
    return lambda request: httpx.Response(status, headers={"Location": location})


def raise_error(error: type[httpx.RequestError]) -> Route:
    def route(request: httpx.Request) -> httpx.Response:
        raise error("simulated", request=request)

    return route


async def fetch_from(
    remote: FakeRemote, url: str, policy: FetchPolicy = POLICY, **kwargs: Any
) -> Document:
    async with remote.client(policy) as client:
        return await fetch(client, url, policy, **kwargs)


async def deliver_to(
    remote: FakeRemote, url: str, body: bytes = b"{}", policy: FetchPolicy = POLICY
) -> DeliveryResult:
    async with remote.client(policy) as client:
        return await deliver(client, url, body, policy, auth=None)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://10.0.0.1/",
        "http://10.255.1.2:8080/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost/",
        "http://api.localhost/",
        "http://internal.example/actor",
        "http://mixed.example/actor",
    ],
)
async def test_fetch_refuses_private_targets_without_sending(url: str) -> None:
    remote = FakeRemote()
    with pytest.raises(UnsafeTargetError) as caught:
        await fetch_from(remote, url)
    assert caught.value.reason == "private address refused"
    assert remote.requests == []


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/"],
)
async def test_fetch_refuses_redirect_to_private_target(target: str) -> None:
    remote = FakeRemote({"http://public.example/actor": redirect_to(target)})
    with pytest.raises(UnsafeTargetError) as caught:
        await fetch_from(remote, "http://public.example/actor")
    assert caught.value.reason == "private address refused"
    assert remote.urls == ["http://public.example/actor"]


async def test_fetch_reaches_private_address_when_allowed() -> None:
    remote = FakeRemote({"http://127.0.0.1:8000/actor": answer_json(ACTOR)})
    policy = FetchPolicy(allow_private_networks=True)
    assert await fetch_from(remote, "http://127.0.0.1:8000/actor", policy) == ACTOR


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://public.example/actor", "gopher://public.example/"]
)
async def test_fetch_refuses_schemes_other_than_http(url: str) -> None:
    remote = FakeRemote()
    with pytest.raises(UnsafeTargetError) as caught:
        await fetch_from(remote, url)
    assert caught.value.reason == "scheme not allowed"
    assert remote.requests == []


async def test_fetch_refuses_redirect_to_file_scheme() -> None:
    remote = FakeRemote({"https://public.example/a": redirect_to("file:///etc/passwd")})
    with pytest.raises(UnsafeTargetError) as caught:
        await fetch_from(remote, "https://public.example/a")
    assert caught.value.reason == "scheme not allowed"


def redirect_chain(hops: int) -> FakeRemote:
    """/r0 redirects through /r1 … to /doc after `hops` redirects; every other one relative."""
    routes: dict[str, Route] = {}
    for hop in range(hops):
        target = "/doc" if hop == hops - 1 else f"/r{hop + 1}"
        location = target if hop % 2 else f"https://other.example{target}"
        host = "public.example" if hop == 0 else "other.example"
        routes[f"https://{host}/r{hop}"] = redirect_to(location, status=301 + hop % 2)
    routes["https://other.example/doc"] = answer_json(ACTOR)
    return FakeRemote(routes)


@pytest.mark.parametrize("hops", [1, 2, 3])
async def test_fetch_follows_redirects_up_to_the_limit(hops: int) -> None:
    remote = redirect_chain(hops)
    assert await fetch_from(remote, "https://public.example/r0") == ACTOR
    assert len(remote.requests) == hops + 1


async def test_fetch_stops_after_too_many_redirects() -> None:
    remote = redirect_chain(4)
    with pytest.raises(FetchError) as caught:
        await fetch_from(remote, "https://public.example/r0")
    assert caught.value.reason == "too many redirects"
    assert "https://other.example/doc" not in remote.urls
    assert len(remote.requests) == 4


class HopSigner(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Signature"] = f"signed {request.url.host}{request.url.path}"
        yield request


async def test_fetch_signs_every_hop_for_its_own_url() -> None:
    remote = redirect_chain(2)
    await fetch_from(remote, "https://public.example/r0", auth=HopSigner())
    signatures = [request.headers["Signature"] for request in remote.requests]
    assert signatures == [
        "signed public.example/r0",
        "signed other.example/r1",
        "signed other.example/doc",
    ]


async def test_fetch_asks_for_activity_json_unless_told_otherwise() -> None:
    remote = FakeRemote({"https://public.example/actor": answer_json(ACTOR)})
    await fetch_from(remote, "https://public.example/actor")
    await fetch_from(remote, "https://public.example/actor", accept=JRD_JSON)
    accepts = [request.headers["Accept"] for request in remote.requests]
    assert accepts == [f"{AS_PROFILE}, {ACTIVITY_JSON}", JRD_JSON]
    assert remote.requests[0].headers["User-Agent"] == "conode-test"


TWO_MB = 2 * 1024 * 1024


def chunked(total: int, chunk: int = 65536) -> Callable[[], AsyncIterator[bytes]]:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(total // chunk):
            yield b" " * chunk

    return body


@pytest.mark.parametrize("with_length", [True, False])
async def test_fetch_refuses_body_over_the_size_cap(with_length: bool) -> None:
    def big(request: httpx.Request) -> httpx.Response:
        if with_length:
            return httpx.Response(200, content=b" " * TWO_MB)
        return httpx.Response(200, content=chunked(TWO_MB)())

    remote = FakeRemote({"https://public.example/big": big})
    with pytest.raises(FetchError) as caught:
        await fetch_from(remote, "https://public.example/big")
    assert caught.value.reason == "response too large"


async def test_fetch_refuses_declared_length_over_cap_without_reading() -> None:
    read: list[bool] = []

    async def body() -> AsyncIterator[bytes]:
        read.append(True)
        yield b"{}"

    def declared_big(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": str(TWO_MB)}, content=body())

    remote = FakeRemote({"https://public.example/big": declared_big})
    with pytest.raises(FetchError) as caught:
        await fetch_from(remote, "https://public.example/big")
    assert caught.value.reason == "response too large"
    assert read == []


async def test_fetch_size_cap_is_configurable() -> None:
    remote = FakeRemote({"https://public.example/actor": answer_json(ACTOR)})
    policy = FetchPolicy(resolver=RESOLVER, max_response_bytes=10)
    with pytest.raises(FetchError) as caught:
        await fetch_from(remote, "https://public.example/actor", policy)
    assert caught.value.reason == "response too large"


@pytest.mark.parametrize("content", [b"<html>hello</html>", b"[1, 2]", b'"actor"', b"\xff\xfe"])
async def test_fetch_refuses_anything_but_a_json_object(content: bytes) -> None:
    remote = FakeRemote(
        {"https://public.example/x": lambda request: httpx.Response(200, content=content)}
    )
    with pytest.raises(FetchError) as caught:
        await fetch_from(remote, "https://public.example/x")
    assert caught.value.reason == "not json"


@pytest.mark.parametrize("status", [404, 410, 500])
async def test_fetch_reports_http_error_status(status: int) -> None:
    remote = FakeRemote({"https://public.example/x": answer_json({"error": "no"}, status)})
    with pytest.raises(FetchError) as caught:
        await fetch_from(remote, "https://public.example/x")
    assert caught.value.reason == f"http {status}"
    assert caught.value.status == status


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (httpx.ConnectTimeout, "timeout"),
        (httpx.ReadTimeout, "timeout"),
        (httpx.ConnectError, "connect failed"),
        (httpx.RemoteProtocolError, "request failed"),
    ],
)
async def test_fetch_turns_network_errors_into_fetch_errors(
    error: type[httpx.RequestError], reason: str
) -> None:
    remote = FakeRemote({"https://public.example/x": raise_error(error)})
    with pytest.raises(FetchError) as caught:
        await fetch_from(remote, "https://public.example/x")
    assert caught.value.reason == reason


async def test_fetch_reports_unresolvable_host() -> None:
    with pytest.raises(FetchError) as caught:
        await fetch_from(FakeRemote(), "https://nowhere.example/actor")
    assert caught.value.reason == "unresolvable host"


async def test_check_url_accepts_public_host() -> None:
    await check_url("https://public.example/actor", POLICY)
    await check_url(httpx.URL("https://other.example/actor"), POLICY)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "fec0::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::7f00:1",
        "2002:7f00:1::1",
        "2001::1",
    ],
)
def test_is_forbidden_address_refuses_non_public_addresses(address: str) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [PUBLIC_IP, "8.8.8.8", "2606:4700::1111", "::ffff:93.184.216.34", "64:ff9b::5db8:d822"],
)
def test_is_forbidden_address_allows_public_addresses(address: str) -> None:
    assert not is_forbidden_address(ipaddress.ip_address(address))


async def test_deliver_posts_activity_json_and_reports_success() -> None:
    remote = FakeRemote({"https://public.example/inbox": lambda r: httpx.Response(202)})
    result = await deliver_to(remote, "https://public.example/inbox", b'{"type": "Follow"}')
    assert result == DeliveryResult(status=202)
    assert result.ok
    assert remote.requests[0].method == "POST"
    assert remote.requests[0].headers["Content-Type"] == ACTIVITY_JSON
    assert remote.requests[0].content == b'{"type": "Follow"}'


async def test_deliver_reads_retry_after_seconds() -> None:
    remote = FakeRemote(
        {
            "https://public.example/inbox": lambda r: httpx.Response(
                429, headers={"Retry-After": "120"}, text="slow down"
            )
        }
    )
    result = await deliver_to(remote, "https://public.example/inbox")
    assert not result.ok
    assert (result.status, result.retry_after, result.error) == (429, 120.0, "http 429")
    assert result.detail == "slow down"


async def test_deliver_reads_retry_after_http_date() -> None:
    headers = {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}
    remote = FakeRemote(
        {"https://public.example/inbox": lambda r: httpx.Response(503, headers=headers)}
    )
    result = await deliver_to(remote, "https://public.example/inbox")
    assert result.status == 503
    assert result.retry_after == datetime(2015, 10, 21, 7, 28, tzinfo=UTC)


async def test_deliver_keeps_only_the_start_of_a_long_answer() -> None:
    remote = FakeRemote(
        {"https://public.example/inbox": lambda r: httpx.Response(400, content=b"x" * 100_000)}
    )
    result = await deliver_to(remote, "https://public.example/inbox")
    assert result.error == "http 400"
    assert len(result.detail) == 1024


@pytest.mark.parametrize(
    ("error", "reason"),
    [(httpx.ConnectError, "connect failed"), (httpx.ReadTimeout, "timeout")],
)
async def test_deliver_reports_network_errors_without_raising(
    error: type[httpx.RequestError], reason: str
) -> None:
    remote = FakeRemote({"https://public.example/inbox": raise_error(error)})
    result = await deliver_to(remote, "https://public.example/inbox")
    assert (result.status, result.error, result.ok) == (None, reason, False)


async def test_deliver_does_not_follow_redirects() -> None:
    remote = FakeRemote(
        {
            "https://public.example/inbox": redirect_to("https://other.example/inbox", 307),
            "https://other.example/inbox": lambda r: httpx.Response(202),
        }
    )
    result = await deliver_to(remote, "https://public.example/inbox")
    assert (result.status, result.error) == (307, "http 307")
    assert remote.urls == ["https://public.example/inbox"]


@pytest.mark.parametrize("url", ["http://10.0.0.5/inbox", "http://internal.example/inbox"])
async def test_deliver_refuses_private_target_without_sending(url: str) -> None:
    remote = FakeRemote()
    result = await deliver_to(remote, url)
    assert result == DeliveryResult(status=None, error="private address refused")
    assert remote.requests == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("0", 0.0),
        (" 3600 ", 3600.0),
        ("Sun, 06 Nov 1994 08:49:37 GMT", datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)),
        ("soon", None),
        ("-5", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: datetime | float | None) -> None:
    assert parse_retry_after(value) == expected


@dataclass
class TinyServer:
    port: int
    connections: list[str]


@asynccontextmanager
async def tiny_http_server() -> AsyncIterator[TinyServer]:
    """A real HTTP/1.1 server on 127.0.0.1 that answers every request with ACTOR."""
    body = json.dumps(ACTOR).encode()
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    connections: list[str] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(str(writer.get_extra_info("peername")))
        await reader.readuntil(b"\r\n\r\n")
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    async with server:
        yield TinyServer(server.sockets[0].getsockname()[1], connections)


async def test_guarded_client_refuses_private_address_at_connect_time() -> None:
    policy = FetchPolicy(resolver=table_resolver({"rebind.example": ["127.0.0.1"]}))
    async with (
        tiny_http_server() as server,
        make_client(policy, user_agent="conode-test") as client,
    ):
        # Called directly, so check_url never runs: only the network backend can refuse.
        with pytest.raises(UnsafeTargetError) as caught:
            await client.get(f"http://rebind.example:{server.port}/")
    assert caught.value.reason == "private address refused"
    assert server.connections == []


async def test_guarded_client_connects_to_private_address_when_allowed() -> None:
    resolver = table_resolver({"rebind.example": ["127.0.0.1"]})
    policy = FetchPolicy(allow_private_networks=True, resolver=resolver)
    async with (
        tiny_http_server() as server,
        make_client(policy, user_agent="conode-test") as client,
    ):
        response = await client.get(f"http://rebind.example:{server.port}/")
    assert response.json() == ACTOR
    assert len(server.connections) == 1


async def test_guarded_client_refuses_ip_literal_with_default_resolver() -> None:
    async with (
        tiny_http_server() as server,
        make_client(FetchPolicy(), user_agent="conode-test") as client,
    ):
        with pytest.raises(UnsafeTargetError):
            await client.get(f"http://127.0.0.1:{server.port}/")
    assert server.connections == []


def rebinding_resolver(answers: Iterator[list[str]]) -> Resolver:
    """Answers each lookup with the next address list, as a rebinding DNS server would."""

    async def resolve(host: str, port: int) -> list[str]:
        return next(answers)

    return resolve


async def test_fetch_refuses_name_rebound_to_loopback_after_the_check() -> None:
    # Given a name that resolves to a public address first and to loopback afterwards
    policy = FetchPolicy(resolver=rebinding_resolver(iter([[PUBLIC_IP], ["127.0.0.1"]])))
    async with (
        tiny_http_server() as server,
        make_client(policy, user_agent="conode-test") as client,
    ):
        # When fetch checks the URL and then connects
        with pytest.raises(UnsafeTargetError) as caught:
            await fetch(client, f"http://rebind.example:{server.port}/actor", policy)
    # Then the connect-time lookup is refused and nothing reaches the server
    assert caught.value.reason == "private address refused"
    assert server.connections == []


async def test_fetch_through_guarded_client_reaches_allowed_server() -> None:
    resolver = table_resolver({"node.example": ["127.0.0.1"]})
    policy = FetchPolicy(allow_private_networks=True, resolver=resolver)
    async with (
        tiny_http_server() as server,
        make_client(policy, user_agent="conode-test") as client,
    ):
        document = await fetch(client, f"http://node.example:{server.port}/actor", policy)
    assert document == ACTOR


async def test_default_resolver_returns_address_strings() -> None:
    assert await resolve_host("127.0.0.1", 80) == ["127.0.0.1"]
