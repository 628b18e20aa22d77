"""Linked nodes on the web: moderators see links and requests, admins approve, remove and trust
them with CSRF-checked forms (the same node/network/links.py the CLI uses), each action recorded."""

from __future__ import annotations

import httpx

from node.network import links, shared_blocks

from ..conftest import TEST_URL
from .conftest import Network
from .test_links import _add_actor, _follow_our_group, _linked
from .web import add_member, sign_in, token

PAGE = f"{TEST_URL}/moderation/links"


async def _pending(net: Network) -> int:
    _add_actor(net, "community", "Group")
    await _follow_our_group(net, "community")
    (link,) = await net.node.store.links("pending")
    return link.id


async def _act(http: httpx.AsyncClient, action: str, link_id: int | str) -> httpx.Response:
    form = {"csrf": await token(http, "/moderation/links"), "action": action, "link": str(link_id)}
    return await http.post(PAGE, data=form)


async def test_an_admin_approves_a_link_request_from_the_page(network: Network) -> None:
    # Given gts.example's Group asks to link, and an admin signs in
    link_id = await _pending(network)
    await add_member(network.node.store, network.node.settings, "ann", admin=True)
    await sign_in(network.http, "ann")

    # When the admin opens the page, the request is there with an Approve button
    page = await network.http.get(PAGE)
    assert page.status_code == 200
    assert "@community@gts.example" in page.text and "asks to link" in page.text
    assert 'value="approve"' in page.text

    # And approving it links the nodes: the follow is accepted and ours is sent back
    assert (await _act(network.http, "approve", link_id)).status_code == 303
    await network.drain()
    assert (await network.node.store.link(link_id)).state == "linked"  # type: ignore[union-attr]
    assert network.other.received("Follow"), "our Group follows theirs back"
    history = await network.node.store.moderation_history(10)
    assert history[0]["action"] == "link_approve"


async def test_trusting_a_link_shows_its_block_suggestions_and_removing_ends_it(
    network: Network,
) -> None:
    # Given a linked node, trusted from the page, that suggests blocking a domain
    link_id = await _linked(network)
    await add_member(network.node.store, network.node.settings, "ann", admin=True)
    await sign_in(network.http, "ann")
    assert (await _act(network.http, "trust", link_id)).status_code == 303
    link = await network.node.store.link(link_id)
    assert link is not None and link.trust_moderation
    await network.node.store.suggest_block(link.actor_id, "spam.example", "spam wave")

    # Then the page offers to confirm the suggestion with one click
    page = await network.http.get(PAGE)
    assert "spam.example" in page.text and "spam wave" in page.text
    assert [s["target"] for s in await shared_blocks.open_suggestions(network.node)] == [
        "spam.example"
    ]

    # When the admin removes the link, it is gone and their Group is told
    assert (await _act(network.http, "remove", link_id)).status_code == 303
    await network.drain()
    assert await network.node.store.link(link_id) is None
    assert network.other.received("Undo") or network.other.received("Reject")


async def test_a_moderator_sees_links_but_only_an_admin_changes_them(network: Network) -> None:
    # Given a pending request and a moderator who is not an admin
    link_id = await _pending(network)
    await add_member(network.node.store, network.node.settings, "mo")
    mo = await network.node.store.local_actor("mo")
    assert mo is not None
    await network.node.store.update_account(mo.id, is_moderator=True)
    await sign_in(network.http, "mo")

    # Then the page shows the request without buttons, and a forged approve is refused
    page = await network.http.get(PAGE)
    assert page.status_code == 200 and "asks to link" in page.text
    assert 'value="approve"' not in page.text
    form = {"csrf": await token(network.http, "/moderation"), "action": "approve", "link": link_id}
    refused = await network.http.post(PAGE, data=form)
    assert refused.status_code == 403
    assert (await network.node.store.link(link_id)).state == "pending"  # type: ignore[union-attr]


async def test_an_unknown_link_or_action_is_a_clear_400(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "ann", admin=True)
    await sign_in(network.http, "ann")

    unknown = await _act(network.http, "approve", 999)
    assert unknown.status_code == 400 and "999" in unknown.text
    assert (await _act(network.http, "explode", 1)).status_code == 400
    assert (await _act(network.http, "approve", "1; DROP TABLE links")).status_code == 400
    assert links.LinkError  # the page shows the same sentences the CLI prints
