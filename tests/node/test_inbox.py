"""The inbox pipeline, cheapest check first: size, JSON, blocks, signature, signer == actor,
stored once (de-duplicated by id) before the 202. Bad input gets a clear 4xx and stores nothing."""

from __future__ import annotations

import json

import httpx
import pytest

from activitypub.keys import PrivateKey
from activitypub.signatures import sign_request
from node.moderation import rules as moderation

from ..conftest import TEST_URL
from .conftest import Network
from .web import add_member, sign_in

SHARED_INBOX = f"{TEST_URL}/inbox"
BEN = f"{TEST_URL}/users/ben"


async def _post_raw(
    net: Network, body: bytes, headers: dict[str, str], url: str = SHARED_INBOX
) -> httpx.Response:
    return await net.http.post(url, content=body, headers=headers)


def _signed(
    net: Network, name: str, activity: dict[str, object], url: str = SHARED_INBOX
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(activity).encode()
    server = net.mastodon
    key = PrivateKey(key_id=f"{server.actor_id(name)}#main-key", pem=server.users[name])
    headers = {
        "Content-Type": "application/activity+json",
        **sign_request("POST", url, {}, body, key),
    }
    return body, headers


async def _stored(net: Network) -> int:
    return await net.node.store.count_inbound("queued") + await net.node.store.count_inbound("done")


async def test_a_body_over_one_megabyte_is_413(network: Network) -> None:
    body = b'{"pad": "' + b"x" * 1_100_000 + b'"}'
    response = await _post_raw(network, body, {"Content-Type": "application/activity+json"})
    assert response.status_code == 413
    assert await _stored(network) == 0


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b'{"type": "Follow"}'])
async def test_malformed_activities_are_400(network: Network, body: bytes) -> None:
    response = await _post_raw(network, body, {"Content-Type": "application/activity+json"})
    assert response.status_code == 400
    assert await _stored(network) == 0


async def test_a_non_json_content_type_is_415(network: Network) -> None:
    response = await _post_raw(
        network, b"a=b", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 415


async def test_an_unsigned_activity_is_401(network: Network) -> None:
    follow = network.mastodon.follow("alice", BEN)
    body = json.dumps(follow).encode()
    response = await _post_raw(network, body, {"Content-Type": "application/activity+json"})
    assert response.status_code == 401
    assert "signature" in response.text
    assert await _stored(network) == 0
    (entry,) = await network.node.store.log_entries(direction="inbound")
    assert entry["outcome"] == "refused" and entry["host"] == "mastodon.example"


async def test_a_tampered_body_is_401(network: Network) -> None:
    body, headers = _signed(network, "alice", network.mastodon.follow("alice", BEN))
    response = await _post_raw(network, body.replace(b"Follow", b"Block"), headers)
    assert response.status_code == 401
    assert "digest mismatch" in response.text


async def test_a_signer_who_is_not_the_actor_is_401(network: Network) -> None:
    # bob signs an activity that claims alice as its actor
    forged = network.mastodon.follow("alice", BEN)
    body, headers = _signed(network, "bob", forged)
    response = await _post_raw(network, body, headers)
    assert response.status_code == 401
    assert "signer is not the activity's actor" in response.text
    assert await _stored(network) == 0


async def test_a_delete_of_an_unknown_actor_is_dropped_without_fetching(network: Network) -> None:
    # Unsigned on purpose: if the node tried to verify, it would have to fetch the actor.
    gone = "https://gone.example/users/zed"
    delete = {"id": f"{gone}#delete", "type": "Delete", "actor": gone, "object": gone}
    response = await _post_raw(
        network, json.dumps(delete).encode(), {"Content-Type": "application/activity+json"}
    )
    assert response.status_code == 202
    assert await network.node.store.remote_actor(gone) is None
    assert await _stored(network) == 0


async def test_blocked_servers_get_202_and_nothing_is_fetched_or_stored(network: Network) -> None:
    await moderation.block(network.node.store, "mastodon.example", "")
    body, headers = _signed(network, "alice", network.mastodon.follow("alice", BEN))
    response = await _post_raw(network, body, headers)
    assert response.status_code == 202
    assert await _stored(network) == 0
    assert await network.node.store.remote_actor(network.mastodon.actor_id("alice")) is None


async def test_a_blocked_subdomain_is_covered_by_its_domain_block(network: Network) -> None:
    await moderation.block(network.node.store, "example", "")
    body, headers = _signed(network, "alice", network.mastodon.follow("alice", BEN))
    assert (await _post_raw(network, body, headers)).status_code == 202
    assert await _stored(network) == 0


async def test_the_same_activity_twice_is_stored_once(network: Network) -> None:
    follow = network.mastodon.follow("alice", BEN)
    for _ in range(2):
        body, headers = _signed(network, "alice", follow)
        assert (await _post_raw(network, body, headers)).status_code == 202
    assert await _stored(network) == 1


async def test_personal_inboxes_work_like_the_shared_one(network: Network) -> None:
    url = f"{BEN}/inbox"
    body, headers = _signed(network, "alice", network.mastodon.follow("alice", BEN), url)
    response = await _post_raw(network, body, headers, url)
    assert response.status_code == 202
    await network.drain()
    assert len(network.mastodon.received("Accept")) == 1


async def test_every_inbound_activity_is_logged_with_its_outcome(network: Network) -> None:
    post_id = await network.post()
    reply = network.mastodon.reply("alice", post_id, "hello")
    await network.mastodon.send("alice", reply, SHARED_INBOX)
    stray = network.mastodon.reply("alice", "https://elsewhere.example/notes/1", "not for you")
    await network.mastodon.send("alice", stray, SHARED_INBOX)
    await network.drain()
    outcomes = {
        entry["activity_id"]: (entry["outcome"], entry["reason"])
        for entry in await network.node.store.log_entries(direction="inbound")
    }
    assert outcomes[reply["id"]] == ("held", "comment held for moderation")
    assert outcomes[stray["id"]][0] == "dropped"


async def test_what_an_account_signs_after_deleting_itself_is_refused(network: Network) -> None:
    # Given alice, whose reply is stored (so her key is held in memory and in the database)
    post_id = await network.post()
    alice = network.mastodon.actor_id("alice")
    await network.mastodon.send(
        "alice", network.mastodon.reply("alice", post_id, "hi"), SHARED_INBOX
    )
    await network.drain()
    # When Mastodon deletes her account: it sends Delete{actor}, then her actor answers 410
    delete = {"id": f"{alice}#delete", "type": "Delete", "actor": alice, "object": alice}
    assert (await network.mastodon.send("alice", delete, SHARED_INBOX)).status_code == 202
    await network.drain()
    network.mastodon.gone.add("alice")
    # Then a reply signed with her old key, arriving late, is refused and nothing is stored
    before = await _stored(network)
    late = network.mastodon.reply("alice", post_id, "arrived after the Delete")
    body, headers = _signed(network, "alice", late)
    response = await _post_raw(network, body, headers)
    assert response.status_code == 401
    assert await _stored(network) == before


async def test_an_activity_sent_in_utf16_is_stored_and_acted_on(network: Network) -> None:
    """json.loads reads UTF-16 and UTF-32 too; the queue stores text, so such a body is
    written out again as UTF-8 JSON rather than stored as it came."""
    follow = network.mastodon.follow("alice", BEN)
    _, headers = _signed(network, "alice", follow)
    body = json.dumps(follow).encode("utf-16")
    key = PrivateKey(
        key_id=f"{network.mastodon.actor_id('alice')}#main-key",
        pem=network.mastodon.users["alice"],
    )
    headers = {
        "Content-Type": "application/activity+json",
        **sign_request("POST", SHARED_INBOX, {}, body, key),
    }
    response = await _post_raw(network, body, headers)
    assert response.status_code == 202
    await network.drain()
    assert len(network.mastodon.received("Accept")) == 1


async def test_inbox_posts_skip_the_session_but_keep_the_hardening(network: Network) -> None:
    """node/app.py sends inbox POSTs past the page middleware (sessions, the look): even from
    a signed-in browser no session is written, and the hardening headers are on the answer,
    on every kind of inbox."""
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    urls = [SHARED_INBOX, f"{TEST_URL}/actor/inbox", f"{BEN}/inbox", f"{TEST_URL}/groups/x/inbox"]
    statuses = []
    for url in urls:
        body, headers = _signed(network, "alice", network.mastodon.follow("alice", BEN), url)
        response = await _post_raw(network, body, headers, url)
        statuses.append(response.status_code)
        assert "set-cookie" not in response.headers
        assert "default-src 'none'" in response.headers["content-security-policy"]
    assert statuses == [202, 202, 202, 404]
