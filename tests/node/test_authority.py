"""Who may speak for what: regression tests for the authority rules of the inbox."""

from __future__ import annotations

import json

import httpx

from activitypub import client
from activitypub.keys import PrivateKey, generate_private_pem, public_pem_from_private
from activitypub.signatures import sign_request

from ..conftest import TEST_URL
from .conftest import Network

SHARED_INBOX = f"{TEST_URL}/inbox"


async def test_a_document_elsewhere_on_the_host_cannot_lend_a_key_to_an_actor(
    network: Network,
) -> None:
    # Given an attacker who can place JSON on mastodon.example (an upload) claiming to be bob
    server = network.mastodon
    attacker_pem = generate_private_pem()
    upload = f"{server.actor_id('alice')}/statuses/666"
    server.objects[upload] = dict(
        server.actor("bob"),
        publicKey={
            "id": upload,
            "owner": server.actor_id("bob"),
            "publicKeyPem": public_pem_from_private(attacker_pem),
        },
    )
    # When the attacker signs a Follow as bob with that document as the key
    follow = server.follow("bob", f"{TEST_URL}/users/ben")
    body = json.dumps(follow).encode()
    headers = sign_request("POST", SHARED_INBOX, {}, body, PrivateKey(upload, attacker_pem))
    headers["Content-Type"] = "application/activity+json"
    response = await network.http.post(SHARED_INBOX, content=body, headers=headers)
    # Then the signature is refused and bob's cached actor is untouched
    assert response.status_code == 401
    cached = await network.node.store.remote_actor(server.actor_id("bob"))
    assert cached is None or cached.key_id == f"{server.actor_id('bob')}#main-key"


async def test_a_note_with_a_list_of_types_is_still_a_comment(network: Network) -> None:
    post_id = await network.post()
    reply = network.mastodon.reply("alice", post_id, "typed twice")
    reply["object"]["type"] = ["Note", "https://example.org/ns#Extra"]
    assert (await network.mastodon.send("alice", reply, SHARED_INBOX)).status_code == 202
    await network.drain()
    assert await network.node.store.note(reply["object"]["id"]) is not None


async def test_likes_of_posts_that_do_not_exist_are_not_counted(network: Network) -> None:
    missing = f"{TEST_URL}/posts/doesnotexist"
    like = network.mastodon.simple("alice", "Like", missing)
    await network.mastodon.send("alice", like, SHARED_INBOX)
    await network.drain()
    assert await network.node.store.reaction_counts(missing) == {}


async def test_personal_inboxes_of_unknown_members_are_404(network: Network) -> None:
    follow = network.mastodon.follow("alice", f"{TEST_URL}/users/nobody")
    response = await network.mastodon.send("alice", follow, f"{TEST_URL}/users/nobody/inbox")
    assert response.status_code == 404


async def test_same_origin_fetches_refuse_cross_origin_redirects() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "a.example":
            return httpx.Response(302, headers={"Location": "https://b.example/doc"})
        return httpx.Response(200, json={"id": "https://a.example/doc"})

    policy = client.FetchPolicy(allow_private_networks=True)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        followed = await client.fetch(http, "https://a.example/doc", policy)
        assert followed["id"] == "https://a.example/doc"
        try:
            await client.fetch(http, "https://a.example/doc", policy, same_origin=True)
        except client.FetchError as exc:
            assert exc.reason == "cross-origin redirect"
        else:
            raise AssertionError("a cross-origin redirect was followed")
