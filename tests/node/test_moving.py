"""Moving, as Mastodon does it (issue 18): a member moves to an account elsewhere that lists
them in `alsoKnownAs`, and a `Move` from an account our members follow is followed when the
new account names the old one. Through the real inbox, worker and HTTP."""

from __future__ import annotations

import json

import pytest

from node.accounts import moving
from node.accounts.members import AccountError
from node.content import publishing
from node.federation import following
from node.federation.actors import local_actor
from node.storage import LocalActorRow

from ..conftest import TEST_URL
from .conftest import Network
from .web import PASSWORD, add_member, sign_in, token

BEN = f"{TEST_URL}/users/ben"
SHARED_INBOX = f"{TEST_URL}/inbox"


async def _ben(network: Network) -> LocalActorRow:
    row = await network.node.store.local_actor("ben")
    assert row is not None
    return row


async def _ben_follows(network: Network, name: str) -> None:
    ben = local_actor(network.node.settings, await _ben(network))
    await following.follow(network.node, ben, name)
    await network.drain()


async def _inbound_log(network: Network, type_: str) -> list[dict[str, object]]:
    entries = await network.node.store.log_entries(direction="inbound")
    return [entry for entry in entries if entry["type"] == type_]


async def test_a_followed_account_that_moves_is_followed_at_its_new_address(
    network: Network,
) -> None:
    mastodon = network.mastodon
    alice, alice2 = mastodon.actor_id("alice"), mastodon.add_user("alice2")
    # Given ben follows alice, and alice's new account lists her old one in alsoKnownAs
    await _ben_follows(network, alice)
    mastodon.also_known_as["alice2"] = [alice]
    # When alice's server sends her Move
    move = mastodon.move("alice", alice2)
    assert (await mastodon.send("alice", move, SHARED_INBOX)).status_code == 202
    await network.drain()
    # Then ben follows alice2 (her server got his Follow) and no longer follows alice (Undo)
    ben = await _ben(network)
    assert await network.node.store.following_row(ben.id, alice2) is not None
    assert await network.node.store.following_row(ben.id, alice) is None
    assert [f["object"] for f in mastodon.received("Follow")] == [alice, alice2]
    (undo,) = mastodon.received("Undo")
    assert (undo["actor"], undo["object"]["object"]) == (BEN, alice)
    (logged,) = await _inbound_log(network, "Move")
    assert logged["outcome"] == "accepted"


async def test_a_move_without_the_alias_is_refused_with_a_logged_reason(network: Network) -> None:
    mastodon = network.mastodon
    alice, alice2 = mastodon.actor_id("alice"), mastodon.add_user("alice2")
    # Given ben follows alice, and alice2 does not name alice in alsoKnownAs
    await _ben_follows(network, alice)
    mastodon.also_known_as["alice2"] = [mastodon.actor_id("bob")]
    # When a Move to alice2 arrives, and one that bob sends about alice
    await mastodon.send("alice", mastodon.move("alice", alice2), SHARED_INBOX)
    not_hers = mastodon.move("bob", alice2) | {"object": alice}
    await mastodon.send("bob", not_hers, SHARED_INBOX)
    await network.drain()
    # Then both are refused, with the reason in the activity log, and ben still follows alice
    refused, other = await _inbound_log(network, "Move")
    assert (refused["outcome"], refused["reason"]) == (
        "dropped",
        f"move refused: {alice2} does not list {alice} in alsoKnownAs",
    )
    assert (other["outcome"], other["reason"]) == (
        "dropped",
        "move of an account other than the sender",
    )
    ben = await _ben(network)
    assert await network.node.store.following_row(ben.id, alice) is not None
    assert await network.node.store.following_row(ben.id, alice2) is None
    assert [f["object"] for f in mastodon.received("Follow")] == [alice]


async def test_a_member_moves_only_to_an_account_that_lists_them(network: Network) -> None:
    mastodon, node = network.mastodon, network.node
    new = mastodon.add_user("ben2")
    # Given alice and bob (one server) follow ben
    for name in ("alice", "bob"):
        follow = mastodon.follow(name, BEN)
        assert (await mastodon.send(name, follow, SHARED_INBOX)).status_code == 202
    await network.drain()
    # When ben moves to ben2, which does not list him: refused in a sentence, nothing sent
    with pytest.raises(AccountError, match=r"does not list .* in its alsoKnownAs: add this"):
        await moving.move(node, await _ben(network), f"@ben2@{mastodon.host}")
    assert (await _ben(network)).moved_to is None
    # When ben2 lists him and he moves
    mastodon.also_known_as["ben2"] = [BEN]
    moved = await moving.move(node, await _ben(network), f"@ben2@{mastodon.host}")
    await network.drain()
    # Then their server got one Move (one per shared inbox): actor = object = ben, target ben2
    (move,) = mastodon.received("Move")
    assert (move["id"], move["actor"], move["object"], move["target"]) == (
        moved.move_id, BEN, BEN, new
    )  # fmt: skip
    assert moved.minutes is None  # ben2 is not on a linked node: no hours move
    # And ben's actor says movedTo, his profile links the new account
    actor = (await network.http.get(BEN, headers={"Accept": "application/activity+json"})).json()
    assert actor["movedTo"] == new
    page = (await network.http.get(f"{TEST_URL}/@ben")).text
    assert f'has moved to <a href="{new}">@ben2@{mastodon.host}</a>' in page
    # And he publishes no more here, and cannot move twice
    draft = publishing.Draft(kind="report", title="Still here?", body="No.")
    with pytest.raises(publishing.PublishError, match="has moved to"):
        await publishing.create_post(node, local_actor(node.settings, await _ben(network)), draft)
    with pytest.raises(AccountError, match=r"has moved to .* already"):
        await moving.move(node, await _ben(network), f"@ben2@{mastodon.host}")


async def test_the_receiving_side_lists_the_alias_in_its_actor(network: Network) -> None:
    alice = network.mastodon.actor_id("alice")
    await moving.add_alias(network.node, await _ben(network), f"@alice@{network.mastodon.host}")
    await moving.add_alias(network.node, await _ben(network), alice)  # the same: kept once
    actor = (await network.http.get(BEN, headers={"Accept": "application/activity+json"})).json()
    assert actor["alsoKnownAs"] == [alice]
    assert json.loads((await _ben(network)).also_known_as) == [alice]
    assert {"@id": "as:alsoKnownAs", "@type": "@id"} in [
        term.get("alsoKnownAs") for term in actor["@context"] if isinstance(term, dict)
    ]


async def test_a_member_moves_from_the_settings_page_with_their_password(
    network: Network,
) -> None:
    mastodon, node = network.mastodon, network.node
    new = mastodon.add_user("mia2")
    await add_member(node.store, node.settings, "mia")
    mia = f"{TEST_URL}/users/mia"
    mastodon.also_known_as["mia2"] = [mia]
    await sign_in(network.http, "mia")
    csrf = await token(network.http, "/settings")
    form = {"csrf": csrf, "account": f"@mia2@{mastodon.host}", "password": "wrong password!"}
    # A wrong password is refused in a sentence; the account stays
    refused = await network.http.post(f"{TEST_URL}/settings/move", data=form)
    assert refused.status_code == 400
    assert "not your current password" in refused.text
    # The right one moves her
    moved = await network.http.post(f"{TEST_URL}/settings/move", data=form | {"password": PASSWORD})
    assert (moved.status_code, moved.headers["location"]) == (303, "/settings?done=moved")
    row = await node.store.local_actor("mia")
    assert row is not None and row.moved_to == new
    settings_page = (await network.http.get(f"{TEST_URL}/settings")).text
    assert "This account has moved to" in settings_page
