"""The "From members elsewhere" page (/elsewhere), through the real app and inbox: approved
posts to the Group (FEP-1b12), newest first and paged, each with its author, sanitised content,
date, a link to the original, and the replies that reached our inbox. Deleted posts and blocked
authors' posts disappear; replies are kept only from the Group's followers or when addressed to
the Group, and are sanitised, block-checked and origin-checked like comments."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from node.moderation import rules as moderation
from node.storage import utcnow

from ..conftest import TEST_URL
from .conftest import Network
from .test_group_posts import _follow_group, _post_to_group, _send
from .test_links import INBOX

PAGE = f"{TEST_URL}/elsewhere"


async def _approved_post(net: Network, text: str) -> dict[str, Any]:
    """alice (trusted) posts to the Group; carol follows it."""
    await _follow_group(net, net.mastodon, "alice")
    await _follow_group(net, net.other, "carol")
    await net.node.store.approve_author(net.mastodon.actor_id("alice"))
    create = _post_to_group(net.mastodon, "alice", text)
    assert (await _send(net, net.mastodon, "alice", create))["outcome"] == "accepted"
    return create


async def test_an_approved_post_to_the_group_is_shown_with_its_replies(network: Network) -> None:
    create = await _approved_post(network, 'Lost cat <script>alert("x")</script>by the mill')
    post_id = create["object"]["id"]
    # carol, who follows the Group, replies; her reply carries a script too
    reply = network.other.reply("carol", post_id, '<img src=x onerror="alert(1)">Saw her today')
    entry = await _send(network, network.other, "carol", reply)
    assert (entry["outcome"], entry["reason"]) == ("accepted", "reply to a post to the group kept")

    page = await network.http.get(PAGE)
    assert page.status_code == 200
    text = page.text
    assert "From members elsewhere" in text and "by the mill" in text and "Saw her today" in text
    assert "<script>" not in text and "onerror" not in text
    assert "@alice@mastodon.example" in text and "@carol@" in text
    assert create["object"]["url"] in text  # the original
    assert text.index("by the mill") < text.index("Saw her today")
    home = await network.http.get(f"{TEST_URL}/")
    assert 'href="/elsewhere"' in home.text

    # When carol deletes her reply, it goes; when alice deletes her post, it goes too
    delete = network.other.simple("carol", "Delete", reply["object"]["id"])
    assert (await network.other.send("carol", delete, INBOX)).status_code == 202
    await network.drain()
    assert "Saw her today" not in (await network.http.get(PAGE)).text
    delete = network.mastodon.simple("alice", "Delete", post_id)
    assert (await network.mastodon.send("alice", delete, INBOX)).status_code == 202
    await network.drain()
    assert "by the mill" not in (await network.http.get(PAGE)).text


async def test_held_and_blocked_authors_posts_are_not_shown(network: Network) -> None:
    await _follow_group(network, network.mastodon, "alice")
    held = _post_to_group(network.mastodon, "alice", "Waiting for a moderator")
    assert (await _send(network, network.mastodon, "alice", held))["outcome"] == "held"
    assert "Waiting for a moderator" not in (await network.http.get(PAGE)).text

    create = await _approved_post(network, "Cheap watches here")
    reply = network.other.reply("carol", create["object"]["id"], "Spam from gts")
    assert (await _send(network, network.other, "carol", reply))["outcome"] == "accepted"
    assert "Spam from gts" in (await network.http.get(PAGE)).text
    await moderation.block(network.node.store, "gts.example", "spam")
    assert "Spam from gts" not in (await network.http.get(PAGE)).text
    assert "Cheap watches here" in (await network.http.get(PAGE)).text
    await moderation.block(network.node.store, network.mastodon.actor_id("alice"), "spam")
    assert "Cheap watches here" not in (await network.http.get(PAGE)).text
    assert await network.node.store.group_post(create["object"]["id"]) is not None  # kept, hidden


async def test_replies_the_group_does_not_take_are_refused_with_a_reason(
    network: Network,
) -> None:
    create = await _approved_post(network, "Bake sale on Sunday")
    post_id = create["object"]["id"]
    # bob on mastodon.example neither follows the Group nor addresses it
    stranger = network.mastodon.reply("bob", post_id, "Not following you")
    entry = await _send(network, network.mastodon, "bob", stranger)
    assert (entry["outcome"], entry["reason"]) == (
        "dropped",
        "reply to a post to the group from an account that neither follows nor addresses it",
    )
    # a reply from a blocked server is dropped at the inbox
    await moderation.block(network.node.store, "gts.example", "spam")
    blocked = network.other.reply("carol", post_id, "From a blocked server")
    entry = await _send(network, network.other, "carol", blocked)
    assert (entry["outcome"], entry["reason"]) == ("dropped", "dropped: blocked")
    # a reply claiming another server's author is refused by its origin
    forged = network.mastodon.reply("alice", post_id, "Forged")
    forged["object"]["id"] = "https://elsewhere.example/notes/1"
    entry = await _send(network, network.mastodon, "alice", forged)
    assert (entry["outcome"], entry["reason"]) == ("dropped", "object is not on the actor's host")
    page = (await network.http.get(PAGE)).text
    assert "Bake sale" in page
    assert all(t not in page for t in ("Not following you", "From a blocked server", "Forged"))


async def test_the_page_is_newest_first_and_paged(network: Network) -> None:
    store = network.node.store
    start = utcnow() - timedelta(days=1)
    for n in range(23):
        object_id = f"https://mastodon.example/users/alice/statuses/9{n:02}"
        # rows as an older version might have left them: shown sanitised all the same
        document = (
            f'{{"id": "{object_id}", "content": "<p>Post number {n:02}<script>x()</script></p>"}}'
        )
        await store.add_group_post(
            object_id=object_id,
            author_id=network.mastodon.actor_id("alice"),
            host="mastodon.example",
            document=document,
            status="approved",
            published_at=start + timedelta(minutes=n),
        )
    first = (await network.http.get(PAGE)).text
    assert "Post number 22" in first and "Post number 03" in first
    assert "Post number 02" not in first and "<script>" not in first
    assert first.index("Post number 22") < first.index("Post number 21")
    next_link = first.split('rel="next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    second = (await network.http.get(f"{TEST_URL}{next_link}")).text
    assert "Post number 02" in second and "Post number 00" in second
    assert "Post number 03" not in second
    assert (await network.http.get(f"{PAGE}?after=nonsense")).status_code == 400
