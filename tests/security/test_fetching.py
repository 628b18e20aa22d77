"""Fetching safely: a keyId, a redirect or a DNS name that leads inside the network is never
fetched; a key-fetch loop ends; one host gets a bounded number of concurrent requests; a
hostile document fetched from a remote server is held to the inbound caps."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from activitypub.client import FetchPolicy, fetch, make_client
from node.federation import remote

from .conftest import BEN, PRIVATE_NAMES, Guarded, Network, post, sign_as, stored_inbound

PRIVATE_TARGETS = [
    "http://127.0.0.1/users/x",  # loopback
    "http://127.8.9.10:8080/users/x",
    "http://10.0.0.1/users/x",  # RFC 1918
    "http://172.16.0.1/users/x",
    "http://192.168.1.1/users/x",
    "http://169.254.169.254/latest/meta-data/",  # link-local: cloud metadata
    "http://100.64.0.1/users/x",  # carrier-grade NAT
    "http://0.0.0.0/users/x",
    "http://[::1]/users/x",
    "http://[fc00::1]/users/x",  # unique local
    "http://[fe80::1]/users/x",  # link-local
    "http://[::ffff:127.0.0.1]/users/x",  # IPv4-mapped loopback
    "http://[64:ff9b::a00:1]/users/x",  # NAT64 of 10.0.0.1
    "http://localhost/users/x",
    "http://2130706433/users/x",  # 127.0.0.1 as one decimal number
    "http://0x7f.1/users/x",  # …in hex, shortened
    "http://0177.0.0.1/users/x",  # …in octal
    *(f"https://{name}/users/x" for name in PRIVATE_NAMES),  # names resolving inside
]


def _reached(net: Guarded, target: str) -> list[httpx.URL]:
    host = urlsplit(target).hostname
    return [url for url in net.fediverse.requests if url.host == host]


@pytest.mark.parametrize("key_url", PRIVATE_TARGETS)
async def test_a_key_id_inside_the_network_is_never_fetched(guarded: Guarded, key_url: str) -> None:
    follow = {"id": f"{key_url}#follow", "type": "Follow", "actor": key_url, "object": BEN}
    request = sign_as(guarded.mastodon, "alice", follow, key_id=f"{key_url}#main-key")
    response = await post(guarded, request)
    assert response.status_code == 401
    assert _reached(guarded, key_url) == []
    assert await stored_inbound(guarded) == 0


@pytest.mark.parametrize("target", PRIVATE_TARGETS)
async def test_a_key_fetch_redirected_inside_the_network_stops_at_the_redirect(
    guarded: Guarded, target: str
) -> None:
    # mastodon.example (public) answers the key fetch with a redirect to the metadata service
    guarded.fediverse.add(
        "mastodon.example",
        Starlette(routes=[Route("/users/eve", lambda r: RedirectResponse(target))]),
    )
    eve = "https://mastodon.example/users/eve"
    follow = {"id": f"{eve}#follow", "type": "Follow", "actor": eve, "object": BEN}
    request = sign_as(guarded.mastodon, "alice", follow, key_id=f"{eve}#main-key")
    response = await post(guarded, request)
    assert response.status_code == 401
    assert [url.path for url in guarded.fediverse.requests if url.host == "mastodon.example"] == [
        "/users/eve"
    ]
    assert _reached(guarded, target) == []


async def test_an_ordinary_key_fetch_still_works_when_private_networks_are_refused(
    guarded: Guarded,
) -> None:
    follow = guarded.mastodon.follow("alice", BEN)
    response = await post(guarded, sign_as(guarded.mastodon, "alice", follow))
    assert response.status_code == 202


async def test_a_key_fetch_loop_ends(network: Network) -> None:
    # Given a key whose owner is another key document whose owner is the first
    hits: list[str] = []

    async def key(request: Request) -> Response:
        name = request.path_params["name"]
        hits.append(name)
        other = "b" if name == "a" else "a"
        document = {
            "id": f"https://loop.example/keys/{name}",
            "type": "Key",
            "owner": f"https://loop.example/keys/{other}",
            "publicKeyPem": "not a key",
        }
        return JSONResponse(document, media_type="application/activity+json")

    network.fediverse.add("loop.example", Starlette(routes=[Route("/keys/{name}", key)]))
    actor = "https://loop.example/keys/a"
    follow = {"id": f"{actor}#f", "type": "Follow", "actor": actor, "object": BEN}
    request = sign_as(network.mastodon, "alice", follow, key_id=f"{actor}#main-key")
    # When it signs a request, then the check ends, refused, after a bounded number of fetches
    response = await asyncio.wait_for(post(network, request), timeout=10)
    assert response.status_code == 401
    assert len(hits) <= 4


async def test_a_redirect_loop_ends(network: Network) -> None:
    hits: list[str] = []

    async def hop(request: Request) -> Response:
        hits.append(request.url.path)
        other = "b" if request.path_params["name"] == "a" else "a"
        return RedirectResponse(f"https://loop.example/{other}")

    network.fediverse.add("loop.example", Starlette(routes=[Route("/{name}", hop)]))
    actor = "https://loop.example/a"
    follow = {"id": f"{actor}#f", "type": "Follow", "actor": actor, "object": BEN}
    request = sign_as(network.mastodon, "alice", follow, key_id=f"{actor}#main-key")
    response = await asyncio.wait_for(post(network, request), timeout=10)
    assert response.status_code == 401
    assert len(hits) <= FetchPolicy().max_redirects + 1


async def test_a_hostile_actor_document_is_held_to_the_caps(network: Network) -> None:
    deep = "[" * 5000 + "]" * 5000

    async def actor(request: Request) -> Response:
        document = json.dumps(network.mastodon.actor("alice"))[:-1] + f', "x": {deep}}}'
        return Response(document, media_type="application/activity+json")

    network.fediverse.add("mastodon.example", Starlette(routes=[Route("/users/alice", actor)]))
    with pytest.raises(remote.RemoteError, match="nested"):
        await remote.fetch_signed(network.node, network.mastodon.actor_id("alice"))
    follow = network.mastodon.follow("alice", BEN)
    assert (await post(network, sign_as(network.mastodon, "alice", follow))).status_code == 401


async def test_requests_to_one_host_are_limited_while_other_hosts_proceed() -> None:
    in_flight: dict[str, int] = {}
    peak: dict[str, int] = {}

    async def slow(request: Request) -> Response:
        host = request.url.hostname or ""
        in_flight[host] = in_flight.get(host, 0) + 1
        peak[host] = max(peak.get(host, 0), in_flight[host])
        await asyncio.sleep(0.05)
        in_flight[host] -= 1
        return JSONResponse({"id": str(request.url)})

    transport = httpx.ASGITransport(app=Starlette(routes=[Route("/{n}", slow)]))
    policy = FetchPolicy(allow_private_networks=True, max_per_host=3)
    async with make_client(policy, transport=transport, user_agent="test") as http:
        urls = [f"https://busy.example/{n}" for n in range(12)]
        urls += [f"https://{host}.example/1" for host in ("a", "b", "c", "d", "e")]
        documents = await asyncio.gather(*(fetch(http, url, policy) for url in urls))
    assert len(documents) == len(urls)
    assert peak["busy.example"] == 3
    assert all(peak[f"{host}.example"] == 1 for host in "abcde")
