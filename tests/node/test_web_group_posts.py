"""Posts to the Group (FEP-1b12) in the web moderation queue, through the real app: alice on a
Mastodon-shaped server posts to the Group and is held; a moderator sees the post beside held
comments and approves it with one click (the Group announces it to carol on gts.example, and
alice is trusted) or rejects it. Only moderators, only with the form's token, never while the
author's server is blocked."""

from __future__ import annotations

from typing import Any

from node.moderation import rules as moderation
from node.storage import GroupPostRow

from ..conftest import TEST_URL
from .conftest import Network
from .test_group_posts import _announced, _follow_group, _post_to_group, _send
from .web import add_member, sign_in, token

QUEUE = f"{TEST_URL}/moderation"


async def _held(
    net: Network, text: str = "Lost cat near the allotments"
) -> tuple[dict[str, Any], GroupPostRow]:
    await _follow_group(net, net.mastodon, "alice")
    await _follow_group(net, net.other, "carol")
    create = _post_to_group(net.mastodon, "alice", text)
    assert (await _send(net, net.mastodon, "alice", create))["outcome"] == "held"
    (held,) = await net.node.store.group_posts("pending")
    return create, held


async def _moderator(net: Network) -> None:
    await add_member(net.node.store, net.node.settings, "mia", admin=True)
    await sign_in(net.http, "mia")


async def _act(net: Network, post_id: int, action: str) -> Any:
    form = {"csrf": await token(net.http, "/moderation"), "action": action}
    return await net.http.post(f"{QUEUE}/group-posts/{post_id}", data=form)


async def test_a_held_post_to_the_group_is_approved_from_the_queue(network: Network) -> None:
    # Given alice's post to the Group is held, with a script in it
    create, held = await _held(network, 'Lost cat <script>alert("x")</script>near the allotments')
    await _moderator(network)
    # Then the queue shows it beside held comments, sanitised, with its author and buttons
    page = await network.http.get(QUEUE)
    assert page.status_code == 200
    assert "Posts to the Group" in page.text and "near the allotments" in page.text
    assert "<script>" not in page.text and "@alice@mastodon.example" in page.text
    assert f'action="/moderation/group-posts/{held.id}"' in page.text
    assert create["object"].get("url", create["object"]["id"]) in page.text  # the original

    # When the moderator approves it
    done = await _act(network, held.id, "approve")
    await network.drain()
    # Then the Group announces it to carol, alice is trusted, and the queue says so
    assert done.status_code == 303
    assert len(_announced(network.other, create["object"]["id"])) == 1
    assert (await network.node.store.group_post_by_id(held.id)).status == "approved"  # type: ignore[union-attr]
    assert await network.node.store.is_approved_author(held.author_id)
    after = await network.http.get(f"{TEST_URL}{done.headers['location']}")
    assert f"Post {held.id} to the Group approved" in after.text
    assert f'action="/moderation/group-posts/{held.id}"' not in after.text


async def test_a_held_post_to_the_group_is_rejected_from_the_queue(network: Network) -> None:
    create, held = await _held(network)
    await _moderator(network)
    done = await _act(network, held.id, "reject")
    await network.drain()
    assert done.status_code == 303
    assert (await network.node.store.group_post_by_id(held.id)).status == "rejected"  # type: ignore[union-attr]
    assert _announced(network.other, create["object"]["id"]) == []
    assert not await network.node.store.is_approved_author(held.author_id)
    rejected = await network.http.get(f"{QUEUE}?status=rejected")
    assert "Lost cat" in rejected.text


async def test_approving_is_refused_while_the_server_is_blocked(network: Network) -> None:
    create, held = await _held(network)
    await moderation.block(network.node.store, "mastodon.example", "spam")
    await _moderator(network)
    refused = await _act(network, held.id, "approve")
    await network.drain()
    assert refused.status_code == 400
    assert "is blocked: it is not announced" in refused.text
    assert (await network.node.store.group_post_by_id(held.id)).status == "pending"  # type: ignore[union-attr]
    assert _announced(network.other, create["object"]["id"]) == []


async def test_only_moderators_with_the_forms_token_act_on_posts_to_the_group(
    network: Network,
) -> None:
    create, held = await _held(network)
    # A member who is not a moderator sees no queue and cannot approve
    await add_member(network.node.store, network.node.settings, "bo")
    await sign_in(network.http, "bo")
    assert (await network.http.get(QUEUE)).status_code == 403
    form = {"csrf": await token(network.http), "action": "approve"}
    refused = await network.http.post(f"{QUEUE}/group-posts/{held.id}", data=form)
    assert refused.status_code == 403
    # A moderator's post without the token is refused too
    await _moderator(network)
    forged = await network.http.post(f"{QUEUE}/group-posts/{held.id}", data={"action": "approve"})
    assert forged.status_code == 403
    # An unknown action or post is a clear 4xx
    assert (await _act(network, held.id, "boost")).status_code == 400
    assert (await _act(network, 999, "approve")).status_code == 404
    await network.drain()
    assert (await network.node.store.group_post_by_id(held.id)).status == "pending"  # type: ignore[union-attr]
    assert _announced(network.other, create["object"]["id"]) == []
