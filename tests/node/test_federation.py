"""The walk a Mastodon user takes (issue: federation core), against in-process servers over HTTP:
follow, receive posts, reply, see the reply moderated, and be blocked."""

from __future__ import annotations

import pytest

from node.content import publishing
from node.moderation import rules as moderation

from ..conftest import TEST_URL
from ..fediverse import FakeServer
from .conftest import Network

AP = {"Accept": "application/activity+json"}
BEN = f"{TEST_URL}/users/ben"
GROUP = f"{TEST_URL}/groups/community"
SHARED_INBOX = f"{TEST_URL}/inbox"


async def _follow(net: Network, server: FakeServer, name: str, target: str) -> dict[str, object]:
    follow = server.follow(name, target)
    response = await server.send(name, follow, SHARED_INBOX)
    assert response.status_code == 202, response.text
    await net.drain()
    return follow


# --- 1. follow ---------------------------------------------------------------------------------


@pytest.mark.parametrize("target", [BEN, GROUP])
async def test_mastodon_user_follows_and_gets_a_signed_accept(
    network: Network, target: str
) -> None:
    # Given alice on Mastodon, when she follows a member or the group
    follow = await _follow(network, network.mastodon, "alice", target)
    # Then her server received a verified Accept embedding her Follow
    (accept,) = network.mastodon.received("Accept")
    assert accept["actor"] == target
    assert accept["object"]["id"] == follow["id"]
    assert accept["object"]["type"] == "Follow"
    assert network.mastodon.refused == []
    followers = (await network.http.get(f"{target}/followers", headers=AP)).json()
    assert followers["totalItems"] == 1


async def test_undo_follow_removes_the_follower(network: Network) -> None:
    follow = await _follow(network, network.mastodon, "alice", BEN)
    undo = network.mastodon.undo("alice", follow)
    assert (await network.mastodon.send("alice", undo, SHARED_INBOX)).status_code == 202
    await network.drain()
    followers = (await network.http.get(f"{BEN}/followers", headers=AP)).json()
    assert followers["totalItems"] == 0


# --- 2. posts reach followers ----------------------------------------------------------------


async def test_a_report_reaches_followers_once_per_shared_inbox(network: Network) -> None:
    # Given alice and bob (same server) follow ben, and carol (another server) follows ben
    await _follow(network, network.mastodon, "alice", BEN)
    await _follow(network, network.mastodon, "bob", BEN)
    await _follow(network, network.other, "carol", BEN)
    network.mastodon.inbox.clear()
    # When ben publishes a report
    object_id = await network.post()
    await network.drain()
    # Then mastodon.example got exactly one signed Create at its shared inbox
    creates = [r for r in network.mastodon.inbox if r.activity["type"] == "Create"]
    assert [r.path for r in creates] == ["/inbox"]
    article = creates[0].activity["object"]
    assert article["type"] == "Article"
    assert article["id"] == object_id
    assert article["name"] == "Spring clean-up report"
    assert article["summary"].startswith("We cleared the canal path.")
    assert "<p>Thanks to everyone.</p>" in article["content"]
    assert article["url"] == object_id
    assert article["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert {
        "type": "Hashtag",
        "name": "#CanalCleanUp",
        "href": f"{TEST_URL}/tags/canalcleanup",
    } in article["tag"]
    assert len(network.other.received("Create")) == 1


async def test_the_group_announces_posts_to_its_followers(network: Network) -> None:
    await _follow(network, network.mastodon, "alice", GROUP)
    object_id = await network.post()
    await network.drain()
    (announce,) = network.mastodon.received("Announce")
    assert announce["actor"] == GROUP
    assert announce["object"] == object_id  # plain Announce(object id): Mastodon shows a boost
    assert network.mastodon.received("Create") == []  # alice follows only the group


async def test_the_article_is_served_at_its_id_and_as_html(network: Network) -> None:
    object_id = await network.post()
    document = (await network.http.get(object_id, headers=AP)).json()
    assert document["id"] == object_id
    page = await network.http.get(object_id)
    assert page.headers["content-type"].startswith("text/html")
    assert "Spring clean-up report" in page.text
    assert '<link rel="alternate" type="application/activity+json"' in page.text


async def test_edit_sends_update_and_delete_sends_delete_then_410(network: Network) -> None:
    await _follow(network, network.mastodon, "alice", BEN)
    object_id = await network.post()
    post = await publishing.post_from_id(network.node, object_id)
    assert post is not None
    await publishing.edit_post(
        network.node, post, title="Clean-up report (final)", body=None, summary=None
    )
    await network.drain()
    (update,) = network.mastodon.received("Update")
    assert update["object"]["name"] == "Clean-up report (final)"
    assert "updated" in update["object"]

    edited = await publishing.post_from_id(network.node, object_id)
    assert edited is not None
    await publishing.delete_post(network.node, edited)
    await network.drain()
    (delete,) = network.mastodon.received("Delete")
    assert delete["object"]["id"] == object_id
    gone = await network.http.get(object_id, headers=AP)
    assert gone.status_code == 410
    assert gone.json()["type"] == "Tombstone"


# --- 3. replies become comments --------------------------------------------------------------


async def _reply(
    net: Network, server: FakeServer, name: str, to: str, text: str, **kwargs: object
) -> dict[str, object]:
    reply = server.reply(name, to, text, mention=(BEN, "@ben@conode.example"), **kwargs)  # type: ignore[arg-type]
    response = await server.send(name, reply, SHARED_INBOX)
    assert response.status_code == 202, response.text
    await net.drain()
    return reply


async def _comments(net: Network, status: str | None) -> list[str]:
    return [n.object_id for n in await net.node.store.notes_with_status(status)]


async def test_a_reply_is_held_then_approved_and_shown(network: Network) -> None:
    object_id = await network.post()
    reply = await _reply(network, network.mastodon, "alice", object_id, "Thanks for the report!")
    note_id = reply["object"]["id"]  # type: ignore[index]
    # Held under the default hold_new policy, shown nowhere public
    assert await _comments(network, "pending") == [note_id]
    replies = (await network.http.get(f"{object_id}/replies", headers=AP)).json()
    assert replies["totalItems"] == 0
    assert "Thanks for the report!" not in (await network.http.get(object_id)).text
    # When a moderator approves it
    note = await network.node.store.note(note_id)
    assert note is not None and note.id is not None
    await moderation.set_comment_status(network.node.store, note.id, "approved")
    # Then it shows in the replies collection and on the page, sanitised
    replies = (await network.http.get(f"{object_id}/replies", headers=AP)).json()
    assert replies["type"] == "Collection"
    assert replies["first"]["items"] == [note_id]
    page = (await network.http.get(object_id)).text
    assert "Thanks for the report!" in page
    assert "@alice@mastodon.example" in page
    # And alice's next reply is published at once (hold_new trusts approved authors)
    second = await _reply(network, network.mastodon, "alice", object_id, "One more thing")
    assert second["object"]["id"] in await _comments(network, "approved")  # type: ignore[index]


async def test_a_repeated_create_changes_nothing(network: Network) -> None:
    object_id = await network.post()
    reply = network.mastodon.reply("alice", object_id, "Hello")
    for _ in range(2):
        assert (await network.mastodon.send("alice", reply, SHARED_INBOX)).status_code == 202
    await network.drain()
    assert len(await _comments(network, None)) == 1


@pytest.mark.parametrize("visibility", ["private", "direct"])
async def test_non_public_replies_are_stored_private_and_never_published(
    network: Network, visibility: str
) -> None:
    object_id = await network.post()
    reply = await _reply(
        network, network.mastodon, "alice", object_id, "Just for you", visibility=visibility
    )
    note = await network.node.store.note(reply["object"]["id"])  # type: ignore[index]
    assert note is not None and note.status == "private" and not note.public
    assert note.id is not None
    await moderation.set_comment_status(network.node.store, note.id, "approved")
    replies = (await network.http.get(f"{object_id}/replies", headers=AP)).json()
    assert replies["totalItems"] == 0
    assert "Just for you" not in (await network.http.get(object_id)).text


async def test_unlisted_replies_count_as_public(network: Network) -> None:
    object_id = await network.post()
    reply = await _reply(
        network, network.mastodon, "alice", object_id, "quietly", visibility="unlisted"
    )
    note = await network.node.store.note(reply["object"]["id"])  # type: ignore[index]
    assert note is not None and note.public and note.status == "pending"


async def test_a_reply_to_a_reply_attaches_to_the_post_fetching_the_missing_parent(
    network: Network,
) -> None:
    object_id = await network.post()
    # Given bob replied to the post but that reply never reached us (it only lives on his server)
    parent = network.mastodon.reply("bob", object_id, "First!")
    # When alice replies to bob's reply
    reply = await _reply(network, network.mastodon, "alice", parent["object"]["id"], "Agreed")  # type: ignore[index]
    # Then both are comments on the post: the parent was fetched from its origin
    stored = await _comments(network, None)
    assert parent["object"]["id"] in stored  # type: ignore[index]
    assert reply["object"]["id"] in stored  # type: ignore[index]
    for note_id in stored:
        note = await network.node.store.note(note_id)
        assert note is not None and note.post_id is not None


async def test_update_edits_and_delete_removes_a_comment(network: Network) -> None:
    object_id = await network.post()
    reply = await _reply(network, network.mastodon, "alice", object_id, "Typo here")
    note_doc = dict(reply["object"])  # type: ignore[call-overload]
    note_doc["content"] = "<p>Fixed it</p>"
    await network.mastodon.send(
        "alice", network.mastodon.simple("alice", "Update", note_doc), SHARED_INBOX
    )
    await network.drain()
    note = await network.node.store.note(note_doc["id"])
    assert note is not None and note.content_html == "<p>Fixed it</p>"
    tombstone = {"id": note_doc["id"], "type": "Tombstone"}
    await network.mastodon.send(
        "alice", network.mastodon.simple("alice", "Delete", tombstone), SHARED_INBOX
    )
    await network.drain()
    note = await network.node.store.note(note_doc["id"])
    assert note is not None and note.status == "deleted" and note.content_html == ""


async def test_nobody_can_edit_or_delete_someone_elses_comment(network: Network) -> None:
    object_id = await network.post()
    reply = await _reply(network, network.mastodon, "alice", object_id, "Mine")
    note_id = reply["object"]["id"]  # type: ignore[index]
    forged = dict(reply["object"], content="<p>Bob was here</p>")  # type: ignore[call-overload]
    await network.mastodon.send(
        "bob", network.mastodon.simple("bob", "Update", forged), SHARED_INBOX
    )
    await network.mastodon.send(
        "bob", network.mastodon.simple("bob", "Delete", note_id), SHARED_INBOX
    )
    await network.other.send(
        "carol", network.other.simple("carol", "Delete", note_id), SHARED_INBOX
    )
    await network.drain()
    note = await network.node.store.note(note_id)
    assert note is not None and "Mine" in note.content_html and note.status == "pending"


async def test_likes_and_boosts_are_counted(network: Network) -> None:
    object_id = await network.post()
    like = network.mastodon.simple("alice", "Like", object_id)
    await network.mastodon.send("alice", like, SHARED_INBOX)
    await network.mastodon.send("alice", like, SHARED_INBOX)  # repeated: counted once
    await network.other.send(
        "carol", network.other.simple("carol", "Announce", object_id), SHARED_INBOX
    )
    await network.drain()
    assert await network.node.store.reaction_counts(object_id) == {"Like": 1, "Announce": 1}
    await network.mastodon.send("alice", network.mastodon.undo("alice", like), SHARED_INBOX)
    await network.drain()
    assert await network.node.store.reaction_counts(object_id) == {"Announce": 1}


async def test_the_other_server_shape_walks_too(network: Network) -> None:
    # hs2019, ld+json, compact `as:Public`, `cc` as a string, inReplyTo as a Link
    await _follow(network, network.other, "carol", BEN)
    assert len(network.other.received("Accept")) == 1
    object_id = await network.post()
    await network.drain()
    assert len(network.other.received("Create")) == 1
    reply = await _reply(network, network.other, "carol", object_id, "From another server")
    note = await network.node.store.note(reply["object"]["id"])  # type: ignore[index]
    assert note is not None and note.public and note.status == "pending"


# --- 5. blocks and reports ---------------------------------------------------------------------


async def test_blocking_a_server_rejects_its_comments_drops_its_followers_and_its_activities(
    network: Network,
) -> None:
    await _follow(network, network.mastodon, "alice", BEN)
    object_id = await network.post()
    await _reply(network, network.mastodon, "alice", object_id, "pending one")
    result = await moderation.block(network.node.store, "mastodon.example", "spam")
    assert (result.rejected_comments, result.removed_followers) == (1, 1)
    # Activities from there are refused with 202-and-drop, before any fetch
    late = network.mastodon.reply("bob", object_id, "after the block")
    response = await network.mastodon.send("bob", late, SHARED_INBOX)
    assert response.status_code == 202
    await network.drain()
    assert late["object"]["id"] not in await _comments(network, None)  # type: ignore[index]
    log = await network.node.store.log_entries(direction="inbound", outcome="dropped")
    assert any(entry["reason"] == "dropped: blocked" for entry in log)


async def test_flags_land_in_reports(network: Network) -> None:
    object_id = await network.post()
    flag = network.mastodon.simple("alice", "Flag", [BEN, object_id])
    flag["content"] = "Spam"
    await network.mastodon.send("alice", flag, SHARED_INBOX)
    await network.drain()
    (report,) = await network.node.store.reports()
    assert report["actor_id"] == network.mastodon.actor_id("alice")
    assert report["object_ids"] == [BEN, object_id]
    assert report["content"] == "Spam"


async def test_hashtag_links_lead_to_a_tag_page(network: Network) -> None:
    object_id = await network.post(title="Canal day")
    page = await network.http.get(f"{TEST_URL}/tags/canalcleanup")
    assert page.status_code == 200
    assert object_id in page.text and "Canal day" in page.text
    other = await network.http.get(f"{TEST_URL}/tags/gardening")
    assert object_id not in other.text


async def test_blocking_a_server_takes_down_its_published_comments(network: Network) -> None:
    object_id = await network.post()
    reply = await _reply(network, network.mastodon, "alice", object_id, "published then blocked")
    note = await network.node.store.note(reply["object"]["id"])  # type: ignore[index]
    assert note is not None and note.id is not None
    await moderation.set_comment_status(network.node.store, note.id, "approved")
    replies = (await network.http.get(f"{object_id}/replies", headers=AP)).json()
    assert replies["totalItems"] == 1
    await moderation.block(network.node.store, "mastodon.example", "spam")
    replies = (await network.http.get(f"{object_id}/replies", headers=AP)).json()
    assert replies["totalItems"] == 0
    assert "published then blocked" not in (await network.http.get(object_id)).text
