"""Authorized fetch (secure mode): off by default; when on, the ActivityPub JSON of objects and
collections goes only to signed requests from servers that are not blocked, while actors, the
instance actor, discovery and the HTML pages stay open."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from activitypub.keys import PrivateKey
from activitypub.signatures import sign_request
from node.app import create_app
from node.moderation import rules as moderation
from node.settings import Settings

from ..conftest import TEST_URL
from ..fediverse import FakeServer, Fediverse
from ..node.conftest import Network

AP = {"Accept": "application/activity+json"}


@pytest.fixture
async def secure(settings: Settings) -> AsyncIterator[Network]:
    fediverse = Fediverse()
    settings = dataclasses.replace(settings, allow_private_networks=True, authorized_fetch=True)
    app = create_app(settings, transport=fediverse)
    fediverse.add("conode.example", app)
    mastodon = FakeServer("mastodon.example", fediverse)
    mastodon.add_user("alice")
    other = FakeServer("gts.example", fediverse, style="other")
    other.add_user("carol")
    async with app.router.lifespan_context(app), fediverse.client() as http:
        yield Network(app.state.node, http, mastodon, other, fediverse)


def _signed_get(server: FakeServer, name: str, url: str) -> dict[str, str]:
    key = PrivateKey(key_id=f"{server.actor_id(name)}#main-key", pem=server.users[name])
    return AP | sign_request("GET", url, {}, None, key)


async def _paths(net: Network) -> list[str]:
    post_id = await net.post()
    return [
        post_id,
        f"{post_id}/replies",
        f"{TEST_URL}/users/ben/outbox",
        f"{TEST_URL}/actor/outbox",
    ]


async def test_unsigned_requests_for_objects_and_collections_are_401(secure: Network) -> None:
    for url in await _paths(secure):
        response = await secure.http.get(url, headers=AP)
        assert response.status_code == 401, url
        assert "signed requests only" in response.json()["error"]
        assert response.headers["www-authenticate"].startswith("Signature")


async def test_signed_requests_are_served(secure: Network) -> None:
    for url in await _paths(secure):
        response = await secure.http.get(url, headers=_signed_get(secure.mastodon, "alice", url))
        assert response.status_code == 200, (url, response.text)


async def test_a_blocked_server_is_refused_even_when_signed(secure: Network) -> None:
    await moderation.block(secure.node.store, "mastodon.example", "")
    for url in await _paths(secure):
        response = await secure.http.get(url, headers=_signed_get(secure.mastodon, "alice", url))
        assert response.status_code == 403, url
    url = (await _paths(secure))[0]
    response = await secure.http.get(url, headers=_signed_get(secure.other, "carol", url))
    assert response.status_code == 200


async def test_a_bad_signature_is_401(secure: Network) -> None:
    url = (await _paths(secure))[0]
    headers = _signed_get(secure.mastodon, "alice", f"{url}?other=1")
    assert (await secure.http.get(url, headers=headers)).status_code == 401


async def test_actors_discovery_and_pages_stay_open(secure: Network) -> None:
    post_id = (await _paths(secure))[0]
    for url, headers in [
        (f"{TEST_URL}/actor", AP),
        (f"{TEST_URL}/users/ben", AP),
        (f"{TEST_URL}/groups/community", AP),
        (f"{TEST_URL}/.well-known/webfinger?resource=acct:ben@conode.example", {}),
        (f"{TEST_URL}/nodeinfo/2.1", {}),
        (post_id, {"Accept": "text/html"}),
    ]:
        response = await secure.http.get(url, headers=headers)
        assert response.status_code == 200, url


async def test_authorized_fetch_is_off_by_default(network: Network) -> None:
    for url in await _paths(network):
        assert (await network.http.get(url, headers=AP)).status_code == 200, url


async def test_kept_json_still_goes_only_to_signed_requests_and_no_proxy_keeps_it(
    secure: Network,
) -> None:
    """Objects' JSON is kept per process (node/web/page_cache.py) behind the signature check,
    and marked private so a shared proxy in front cannot hand it to anyone."""
    url = (await _paths(secure))[0]
    for _ in range(2):  # the second from what the process kept
        response = await secure.http.get(url, headers=_signed_get(secure.mastodon, "alice", url))
        assert response.status_code == 200
        assert response.headers["cache-control"] == "private, no-cache"
    unsigned = await secure.http.get(url, headers=AP)
    assert unsigned.status_code == 401
