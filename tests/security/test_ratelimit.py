"""Rate limits: 429 with Retry-After per client address on pages and per remote server on the
inbox; a forger claiming another server's keys spends only its own address's allowance."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from node.app import create_app
from node.settings import Settings
from node.web.ratelimit import RateLimiter

from ..conftest import TEST_URL
from ..fediverse import FakeServer, Fediverse
from .conftest import BEN, SHARED_INBOX, sign_as

LIMIT = 5


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[tuple[Fediverse, FakeServer]]:
    """Our node with CONODE_RATE_LIMIT=5 and a Mastodon server with alice."""
    fediverse = Fediverse()
    settings = dataclasses.replace(settings, rate_limit=LIMIT, allow_private_networks=True)
    app = create_app(settings, transport=fediverse)
    fediverse.add("conode.example", app)
    mastodon = FakeServer("mastodon.example", fediverse)
    mastodon.add_user("alice")
    async with app.router.lifespan_context(app):
        yield fediverse, mastodon


def _from(address: str, fediverse: Fediverse) -> httpx.AsyncClient:
    app = fediverse._hosts["conode.example"].app
    transport = httpx.ASGITransport(app=app, client=(address, 4000))
    return httpx.AsyncClient(transport=transport, base_url=TEST_URL)


async def test_pages_are_limited_per_client_address(
    limited: tuple[Fediverse, FakeServer],
) -> None:
    fediverse, _ = limited
    async with _from("203.0.113.1", fediverse) as one, _from("203.0.113.2", fediverse) as two:
        statuses = [(await one.get("/users/ben")).status_code for _ in range(LIMIT)]
        refused = await one.get("/users/ben")
        other = await two.get("/users/ben")
        static = await one.get("/static/site.css")
    assert statuses == [200] * LIMIT
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60 // LIMIT + 1
    assert "content-security-policy" in refused.headers
    assert other.status_code == 200
    assert static.status_code == 200


async def test_the_inbox_is_limited_per_remote_server(
    limited: tuple[Fediverse, FakeServer],
) -> None:
    fediverse, mastodon = limited
    statuses = []
    async with _from("198.51.100.7", fediverse) as http:
        for _ in range(LIMIT + 1):
            request = sign_as(mastodon, "alice", mastodon.follow("alice", BEN))
            response = await http.post(SHARED_INBOX, content=request.body, headers=request.headers)
            statuses.append(response.status_code)
    assert statuses == [202] * LIMIT + [429]
    assert int(response.headers["retry-after"]) >= 1


async def test_a_forger_cannot_spend_another_servers_allowance(
    limited: tuple[Fediverse, FakeServer],
) -> None:
    fediverse, mastodon = limited
    async with _from("192.0.2.66", fediverse) as attacker, _from("198.51.100.7", fediverse) as real:
        # Given an attacker sending requests that claim alice's key but are not hers
        forged = []
        for _ in range(LIMIT * 3):
            request = sign_as(mastodon, "alice", mastodon.follow("alice", BEN))
            body = request.body.replace(b"Follow", b"Undo  ")
            response = await attacker.post(SHARED_INBOX, content=body, headers=request.headers)
            forged.append(response.status_code)
        # When mastodon.example itself delivers
        request = sign_as(mastodon, "alice", mastodon.follow("alice", BEN))
        genuine = await real.post(SHARED_INBOX, content=request.body, headers=request.headers)
    # Then the attacker hit its own limit and mastodon.example is served
    assert forged[:LIMIT] == [401] * LIMIT and set(forged[LIMIT:]) == {429}
    assert genuine.status_code == 202


async def test_unsigned_junk_is_limited_per_address(limited: tuple[Fediverse, FakeServer]) -> None:
    fediverse, _ = limited
    actor = "https://mastodon.example/users/alice"
    junk = json.dumps({"id": f"{actor}#f", "type": "Follow", "actor": actor}).encode()
    headers = {"Content-Type": "application/activity+json"}
    async with _from("192.0.2.9", fediverse) as http:
        statuses = [
            (await http.post(SHARED_INBOX, content=junk, headers=headers)).status_code
            for _ in range(LIMIT + 1)
        ]
    assert statuses == [401] * LIMIT + [429]


async def test_one_address_has_one_allowance_for_pages_and_inboxes(
    limited: tuple[Fediverse, FakeServer],
) -> None:
    """Inbox POSTs take a short cut past the page middleware (node/app.py): the limiter is
    still the one the pages use, so junk sent to the inbox and pages share one allowance."""
    fediverse, _ = limited
    actor = "https://mastodon.example/users/alice"
    junk = json.dumps({"id": f"{actor}#f", "type": "Follow", "actor": actor}).encode()
    headers = {"Content-Type": "application/activity+json"}
    async with _from("192.0.2.10", fediverse) as http:
        pages = [(await http.get("/users/ben")).status_code for _ in range(LIMIT - 2)]
        inbox = [
            (await http.post("/users/ben/inbox", content=junk, headers=headers)).status_code
            for _ in range(3)
        ]
        page = await http.get("/users/ben")
    assert pages == [200] * (LIMIT - 2)
    assert inbox == [401, 401, 429]
    assert page.status_code == 429


def test_the_allowance_refills_at_the_limits_pace() -> None:
    now = [1000.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    key = ("address", "x")
    assert all(limiter.hit(key) is None for _ in range(60))
    wait = limiter.hit(key)
    assert wait is not None and wait == pytest.approx(1.0)
    now[0] += 1.0
    assert limiter.hit(key) is None
    assert limiter.hit(key) is not None
    assert limiter.over(("address", "y")) is None
