"""Origin and authority: an activity is acted on only when its signer is its actor, and an
object is created, updated or deleted only by an actor on the object's own host (Mastodon
CVE-2024-23832). Each test sends what an attacker would and checks that nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from activitypub import keys

from .conftest import BEN, SHARED_INBOX, Network, post, sign_as, stored_inbound


async def _outcomes(net: Network) -> dict[str, tuple[str, str]]:
    entries = await net.node.store.log_entries(direction="inbound")
    return {str(e["activity_id"]): (e["outcome"], e["reason"]) for e in entries}


async def _carol_comment(net: Network, post_id: str) -> dict[str, Any]:
    """carol (gts.example) replies to our post; returns her Create."""
    create = net.other.reply("carol", post_id, "carol's own words")
    assert (await net.other.send("carol", create, SHARED_INBOX)).status_code == 202
    await net.drain()
    assert await net.node.store.note(create["object"]["id"]) is not None
    return create


async def _mastodon_comment(net: Network, name: str, text: str) -> dict[str, Any]:
    """mastodon.example's `name` comments on a new post of ours; returns the Create."""
    create = net.mastodon.reply(name, await net.post(), text)
    await net.mastodon.send(name, create, SHARED_INBOX)
    await net.drain()
    return create


# --- forged Create / Update / Delete ------------------------------------------------------------


async def test_a_create_of_an_object_on_another_host_is_dropped(network: Network) -> None:
    post_id = await network.post()
    # alice (mastodon.example) creates a note whose id lives on gts.example, as carol
    forged = network.mastodon.reply("alice", post_id, "words put in carol's mouth")
    forged["object"]["id"] = "https://gts.example/users/carol/statuses/999"
    forged["object"]["attributedTo"] = network.other.actor_id("carol")
    assert (await post(network, sign_as(network.mastodon, "alice", forged))).status_code == 202
    await network.drain()
    assert await network.node.store.note(forged["object"]["id"]) is None
    assert (await _outcomes(network))[forged["id"]] == (
        "dropped",
        "object is not on the actor's host",
    )


async def test_a_create_attributed_to_someone_else_on_the_same_host_is_dropped(
    network: Network,
) -> None:
    post_id = await network.post()
    forged = network.mastodon.reply("alice", post_id, "bob never said this")
    forged["object"]["attributedTo"] = network.mastodon.actor_id("bob")
    await post(network, sign_as(network.mastodon, "alice", forged))
    await network.drain()
    assert await network.node.store.note(forged["object"]["id"]) is None


async def test_an_update_of_another_hosts_note_changes_nothing(network: Network) -> None:
    post_id = await network.post()
    create = await _carol_comment(network, post_id)
    note = dict(create["object"], content="<p>defaced</p>")
    update = network.mastodon.simple("alice", "Update", note)
    await post(network, sign_as(network.mastodon, "alice", update))
    await network.drain()
    stored = await network.node.store.note(note["id"])
    assert stored is not None and "carol's own words" in stored.content_html
    assert (await _outcomes(network))[update["id"]][0] == "dropped"


async def test_a_delete_of_another_hosts_note_changes_nothing(network: Network) -> None:
    post_id = await network.post()
    create = await _carol_comment(network, post_id)
    delete = network.mastodon.simple("alice", "Delete", create["object"]["id"])
    await post(network, sign_as(network.mastodon, "alice", delete))
    await network.drain()
    stored = await network.node.store.note(create["object"]["id"])
    assert stored is not None and stored.status != "deleted"
    assert (await _outcomes(network))[delete["id"]] == (
        "dropped",
        "delete of an object on another host",
    )


async def test_a_delete_of_a_same_host_note_by_another_actor_changes_nothing(
    network: Network,
) -> None:
    create = await _mastodon_comment(network, "bob", "bob's comment")
    delete = network.mastodon.simple("alice", "Delete", create["object"]["id"])
    await post(network, sign_as(network.mastodon, "alice", delete))
    await network.drain()
    stored = await network.node.store.note(create["object"]["id"])
    assert stored is not None and stored.status != "deleted"


# --- actors and keys ----------------------------------------------------------------------------


async def _cached_key(net: Network, actor_id: str) -> str:
    row = await net.node.store.remote_actor(actor_id)
    assert row is not None
    return row.public_key_pem


async def test_an_update_of_an_actor_by_another_actor_leaves_its_key_alone(
    network: Network,
) -> None:
    # Given alice's key is known
    alice = network.mastodon.actor_id("alice")
    await network.mastodon.send("alice", network.mastodon.follow("alice", BEN), SHARED_INBOX)
    await network.drain()
    before = await _cached_key(network, alice)
    # When bob sends an Update of alice carrying bob's key
    forged_actor = network.mastodon.actor("alice")
    forged_actor["publicKey"]["publicKeyPem"] = keys.public_pem_from_private(
        network.mastodon.users["bob"]
    )
    update = network.mastodon.simple("bob", "Update", forged_actor)
    await post(network, sign_as(network.mastodon, "bob", update))
    await network.drain()
    # Then alice's key is unchanged
    assert await _cached_key(network, alice) == before
    assert (await _outcomes(network))[update["id"]][0] == "dropped"


async def test_an_actor_update_is_refetched_from_origin_not_trusted_as_sent(
    network: Network,
) -> None:
    alice = network.mastodon.actor_id("alice")
    await network.mastodon.send("alice", network.mastodon.follow("alice", BEN), SHARED_INBOX)
    await network.drain()
    # alice's own Update embeds a key that her server does not publish
    embedded = network.mastodon.actor("alice")
    embedded["publicKey"]["publicKeyPem"] = keys.public_pem_from_private(
        network.mastodon.users["bob"]
    )
    update = network.mastodon.simple("alice", "Update", embedded)
    await post(network, sign_as(network.mastodon, "alice", update))
    await network.drain()
    published = network.mastodon.actor("alice")["publicKey"]["publicKeyPem"]
    assert await _cached_key(network, alice) == published


async def test_a_rotated_key_is_taken_from_the_actors_own_server(network: Network) -> None:
    # Given alice's old key is cached
    alice = network.mastodon.actor_id("alice")
    await network.mastodon.send("alice", network.mastodon.follow("alice", BEN), SHARED_INBOX)
    await network.drain()
    # When her server rotates her key and she signs with the new one
    network.mastodon.users["alice"] = keys.generate_private_pem()
    update = network.mastodon.simple("alice", "Update", network.mastodon.actor("alice"))
    response = await post(network, sign_as(network.mastodon, "alice", update))
    # Then the signature verifies after one re-fetch, and the new key is cached
    assert response.status_code == 202
    new_public = keys.public_pem_from_private(network.mastodon.users["alice"])
    assert await _cached_key(network, alice) == new_public


async def test_an_actor_served_through_a_redirect_to_another_host_is_refused(
    network: Network,
) -> None:
    # mastodon.example has an open redirect; evil.example answers with a document that claims
    # to be mastodon.example's eve, with evil's key.
    evil_pem = keys.generate_private_pem()
    eve = "https://mastodon.example/users/eve"

    async def evil_actor(request: Request) -> Response:
        document = network.mastodon.actor("alice")
        document.update(id=eve, preferredUsername="eve", inbox=f"{eve}/inbox")
        document["publicKey"] = {
            "id": f"{eve}#main-key",
            "owner": eve,
            "publicKeyPem": keys.public_pem_from_private(evil_pem),
        }
        return JSONResponse(document, media_type="application/activity+json")

    network.fediverse.add("evil.example", Starlette(routes=[Route("/eve", evil_actor)]))
    redirector = Starlette(
        routes=[Route("/users/eve", lambda r: RedirectResponse("https://evil.example/eve"))]
    )
    network.fediverse.add("mastodon.example", redirector)
    follow = {"id": f"{eve}#follow/1", "type": "Follow", "actor": eve, "object": BEN}
    request = sign_as(network.mastodon, "alice", follow, pem=evil_pem, key_id=f"{eve}#main-key")
    response = await post(network, request)
    assert response.status_code == 401
    assert await network.node.store.remote_actor(eve) is None
    assert await stored_inbound(network) == 0


async def test_an_embedded_ancestor_is_fetched_from_its_origin(network: Network) -> None:
    # Given carol's real reply to our post, on gts.example
    post_id = await network.post()
    carol_reply = network.other.reply("carol", post_id, "the real words")
    # When alice replies to it, embedding a forged copy of carol's reply
    forged_parent = dict(carol_reply["object"], content="<p>FORGED</p>")
    create = network.mastodon.reply("alice", carol_reply["object"]["id"], "agreed")
    create["object"]["inReplyTo"] = forged_parent
    await post(network, sign_as(network.mastodon, "alice", create))
    await network.drain()
    # Then carol's comment is stored as her server serves it
    parent = await network.node.store.note(carol_reply["object"]["id"])
    assert parent is not None
    assert "the real words" in parent.content_html and "FORGED" not in parent.content_html


# --- the signature itself ---------------------------------------------------------------------


async def test_a_signer_who_is_not_the_actor_is_refused(network: Network) -> None:
    follow = network.mastodon.follow("alice", BEN)
    response = await post(network, sign_as(network.mastodon, "bob", follow))
    assert response.status_code == 401
    assert await stored_inbound(network) == 0


async def test_a_signature_by_the_wrong_key_is_refused(network: Network) -> None:
    follow = network.mastodon.follow("alice", BEN)
    request = sign_as(network.mastodon, "alice", follow, pem=network.mastodon.users["bob"])
    response = await post(network, request)
    assert response.status_code == 401 and "bad signature" in response.text
    assert await stored_inbound(network) == 0


async def test_a_digest_that_does_not_match_the_body_is_refused(network: Network) -> None:
    follow = network.mastodon.follow("alice", BEN)
    request = sign_as(network.mastodon, "alice", follow)
    tampered = request.body.replace(b"Follow", b"Block ")
    response = await network.http.post(SHARED_INBOX, content=tampered, headers=request.headers)
    assert response.status_code == 401 and "digest mismatch" in response.text
    assert await stored_inbound(network) == 0


async def test_a_stale_date_is_refused(network: Network) -> None:
    follow = network.mastodon.follow("alice", BEN)
    old = datetime.now(UTC) - timedelta(hours=2)
    response = await post(network, sign_as(network.mastodon, "alice", follow, now=old))
    assert response.status_code == 401 and "date too old" in response.text
    assert await stored_inbound(network) == 0


async def test_a_future_date_is_refused(network: Network) -> None:
    follow = network.mastodon.follow("alice", BEN)
    later = datetime.now(UTC) + timedelta(hours=2)
    response = await post(network, sign_as(network.mastodon, "alice", follow, now=later))
    assert response.status_code == 401 and "date in the future" in response.text
    assert await stored_inbound(network) == 0


async def test_a_replayed_activity_changes_nothing(network: Network) -> None:
    # Given alice's comment, accepted and then deleted by her
    post_id = await network.post()
    create = network.mastodon.reply("alice", post_id, "soon gone")
    captured = sign_as(network.mastodon, "alice", create)
    assert (await post(network, captured)).status_code == 202
    await network.drain()
    delete = network.mastodon.simple("alice", "Delete", create["object"]["id"])
    await post(network, sign_as(network.mastodon, "alice", delete))
    await network.drain()
    # When someone replays the captured Create, byte for byte, inside the Date window
    response = await post(network, captured)
    await network.drain()
    # Then it is recognised and the comment stays deleted
    assert response.status_code == 202 and "duplicate" in response.text
    stored = await network.node.store.note(create["object"]["id"])
    assert stored is not None and stored.status == "deleted"


async def test_an_announced_object_from_another_host_is_not_taken_as_sent(
    network: Network,
) -> None:
    # alice boosts a "note by carol" that she embeds herself: it must not become carol's comment
    post_id = await network.post()
    forged = {
        "id": "https://gts.example/users/carol/statuses/777",
        "type": "Note",
        "attributedTo": network.other.actor_id("carol"),
        "inReplyTo": post_id,
        "content": "<p>FORGED</p>",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    announce = network.mastodon.simple("alice", "Announce", forged)
    assert (await post(network, sign_as(network.mastodon, "alice", announce))).status_code == 202
    await network.drain()
    assert await network.node.store.note(forged["id"]) is None
    assert (await _outcomes(network))[announce["id"]][0] == "dropped"


async def test_an_activity_id_on_another_host_is_refused(network: Network) -> None:
    # alice takes the id carol's next activity will have, so it would pass as a duplicate
    post_id = await network.post()
    carols = network.other.reply("carol", post_id, "my real reply")
    squatter = network.mastodon.follow("alice", BEN)
    squatter["id"] = carols["id"]
    response = await post(network, sign_as(network.mastodon, "alice", squatter))
    assert response.status_code == 400 and "not on the actor's host" in response.text
    assert await stored_inbound(network) == 0
    # and carol's activity, when it comes, is accepted
    assert (await network.other.send("carol", carols, SHARED_INBOX)).status_code == 202
    await network.drain()
    assert await network.node.store.note(carols["object"]["id"]) is not None


# --- second enforcement points ------------------------------------------------------------------


async def test_an_update_forging_attributed_to_cannot_edit_a_same_host_comment(
    network: Network,
) -> None:
    # Given bob's comment, and alice on the same server
    create = await _mastodon_comment(network, "bob", "bob's own words")
    # When alice sends an Update of bob's note claiming it is hers (same host, attributedTo her)
    note = dict(create["object"], content="<p>defaced</p>")
    note["attributedTo"] = network.mastodon.actor_id("alice")
    update = network.mastodon.simple("alice", "Update", note)
    assert (await post(network, sign_as(network.mastodon, "alice", update))).status_code == 202
    await network.drain()
    # Then bob's comment is unchanged
    stored = await network.node.store.note(note["id"])
    assert stored is not None and "bob's own words" in stored.content_html
    assert (await _outcomes(network))[update["id"]] == (
        "dropped",
        "update of a note that is not theirs",
    )


async def test_an_updated_comment_is_sanitised_like_a_new_one(network: Network) -> None:
    create = await _mastodon_comment(network, "alice", "first words")
    hostile = (
        '<p>edited</p><script>alert(1)</script><img src="x" onerror="alert(2)">'
        '<a href="javascript:alert(3)">link</a>'
    )
    update = network.mastodon.simple("alice", "Update", dict(create["object"], content=hostile))
    await network.mastodon.send("alice", update, SHARED_INBOX)
    await network.drain()
    stored = await network.node.store.note(create["object"]["id"])
    assert stored is not None and "edited" in stored.content_html
    for trace in ("<script", "alert(", "onerror", "javascript:", "<img"):
        assert trace not in stored.content_html, stored.content_html
