"""Fixtures for the adversarial suite: the `network` of tests/node (our node and fake servers),
a guarded variant in which private addresses are refused, and helpers that sign like an
attacker would: with a chosen Date, key or keyId, and by replaying exact requests."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from activitypub.client import FetchPolicy
from activitypub.keys import PrivateKey
from activitypub.signatures import sign_request
from node.app import create_app
from node.settings import Settings

from ..conftest import TEST_URL
from ..fediverse import FakeServer, Fediverse
from ..node.conftest import Network, network

__all__ = ["Network", "network"]

SHARED_INBOX = f"{TEST_URL}/inbox"
BEN = f"{TEST_URL}/users/ben"
PUBLIC_IP = "93.184.215.14"
# Names a test resolver maps to private addresses (DNS that points inside the network).
PRIVATE_NAMES = {"intranet.example": "10.0.0.5", "metadata.example": "169.254.169.254"}


@dataclass(frozen=True)
class SignedRequest:
    body: bytes
    headers: dict[str, str]


def sign_as(
    server: FakeServer,
    name: str,
    activity: dict[str, Any],
    url: str = SHARED_INBOX,
    *,
    now: datetime | None = None,
    pem: str | None = None,
    key_id: str | None = None,
    body: bytes | None = None,
) -> SignedRequest:
    """A POST as `name` of `server` would sign it; any part may be swapped for a forgery."""
    raw = json.dumps(activity).encode() if body is None else body
    key = PrivateKey(
        key_id=key_id or f"{server.actor_id(name)}#main-key", pem=pem or server.users[name]
    )
    headers = {
        "Content-Type": "application/activity+json",
        **sign_request("POST", url, {}, raw, key, now=now),
    }
    return SignedRequest(raw, headers)


async def post(
    net: Network | Guarded, request: SignedRequest, url: str = SHARED_INBOX
) -> httpx.Response:
    return await net.http.post(url, content=request.body, headers=request.headers)


async def stored_inbound(net: Network | Guarded) -> int:
    store = net.node.store
    return await store.count_inbound("queued") + await store.count_inbound("done")


class RecordingFediverse(Fediverse):
    """The test fediverse, noting every request that reached the network at all."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[httpx.URL] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url)
        return await super().handle_async_request(request)


async def resolve_test_names(host: str, port: int) -> list[str]:
    return [PRIVATE_NAMES.get(host, PUBLIC_IP)]


@dataclass
class Guarded:
    """Our node with private networks refused (production's default); host names resolve to
    a public address except PRIVATE_NAMES. `fediverse.requests` shows what left the node."""

    node: Any
    http: httpx.AsyncClient
    mastodon: FakeServer
    fediverse: RecordingFediverse


@pytest.fixture
async def guarded(settings: Settings) -> AsyncIterator[Guarded]:
    fediverse = RecordingFediverse()
    settings = dataclasses.replace(settings, allow_private_networks=False)
    app = create_app(settings, transport=fediverse)
    fediverse.add("conode.example", app)
    mastodon = FakeServer("mastodon.example", fediverse)
    mastodon.add_user("alice")
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=fediverse) as http:
        node = dataclasses.replace(
            app.state.node, fetch_policy=FetchPolicy(resolver=resolve_test_names)
        )
        app.state.node = node
        yield Guarded(node, http, mastodon, fediverse)
