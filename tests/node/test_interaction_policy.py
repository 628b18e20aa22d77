"""Who may reply and quote: GoToSocial's interactionPolicy and Mastodon's canQuote on our posts,
QuoteRequest (FEP-044f) answered per policy, replies against the policy refused, all through
the real inbox and worker."""

from __future__ import annotations

from typing import Any

from node.content import publishing
from node.federation.actors import local_actor

from ..conftest import TEST_URL
from ..fediverse import PUBLIC, FakeServer
from .conftest import Network
from .web import add_member, sign_in, token

AP = {"Accept": "application/activity+json"}
BEN = f"{TEST_URL}/users/ben"
SHARED_INBOX = f"{TEST_URL}/inbox"


async def _post(network: Network, **policy: str) -> str:
    member = await network.node.store.local_actor("ben")
    assert member is not None
    draft = publishing.Draft("report", "Canal path", "We cleared the canal path.", **policy)  # type: ignore[arg-type]
    post = await publishing.create_post(
        network.node, local_actor(network.node.settings, member), draft
    )
    return publishing.post_id(network.node, post)


async def _article(network: Network, object_id: str) -> dict[str, Any]:
    response = await network.http.get(object_id, headers=AP)
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


async def _follow_ben(network: Network, server: FakeServer, name: str) -> None:
    response = await server.send(name, server.follow(name, BEN), SHARED_INBOX)
    assert response.status_code == 202
    await network.drain()


def _quote_request(server: FakeServer, name: str, target: str) -> tuple[dict[str, Any], str]:
    quote_id = server.new_id(name)
    request = server.simple(name, "QuoteRequest", target)
    request["instrument"] = quote_id
    return request, quote_id


async def _inbound_reasons(network: Network) -> list[str]:
    return [entry["reason"] for entry in await network.node.store.log_entries(direction="inbound")]


async def test_a_post_says_anyone_may_reply_and_followers_may_quote_by_default(
    network: Network,
) -> None:
    article = await _article(network, await _post(network))

    policy = article["interactionPolicy"]
    assert policy["canReply"] == {"automaticApproval": [PUBLIC], "manualApproval": []}
    assert policy["canQuote"] == {"automaticApproval": [f"{BEN}/followers"], "manualApproval": []}
    assert policy["canLike"]["automaticApproval"] == [PUBLIC]
    assert policy["canAnnounce"]["automaticApproval"] == [PUBLIC]
    # the last term definitions (a signed document's Data Integrity context comes after them)
    (terms,) = [item for item in article["@context"] if isinstance(item, dict) and "gts" in item]
    assert terms["QuoteRequest"] == "https://w3id.org/fep/044f#QuoteRequest"
    assert terms["interactionPolicy"]["@id"] == "gts:interactionPolicy"


async def test_a_post_for_members_only_with_no_quotes_says_so(network: Network) -> None:
    article = await _article(network, await _post(network, replies="members", quotes="nobody"))

    policy = article["interactionPolicy"]
    assert policy["canReply"]["automaticApproval"] == [BEN]
    assert policy["canQuote"]["automaticApproval"] == [BEN]


async def test_a_followers_quote_request_is_accepted_with_an_authorization(
    network: Network,
) -> None:
    # Given alice follows ben, and ben's post lets followers quote (the default)
    await _follow_ben(network, network.mastodon, "alice")
    object_id = await _post(network)
    # When alice asks to quote it
    request, quote_id = _quote_request(network.mastodon, "alice", object_id)
    response = await network.mastodon.send("alice", request, f"{BEN}/inbox")
    assert response.status_code == 202
    await network.drain()
    # Then ben answers with an Accept whose result is a QuoteAuthorization anyone can fetch
    accepts = network.mastodon.received("Accept")
    (accept,) = [a for a in accepts if a["object"]["id"] == request["id"]]
    assert accept["actor"] == BEN
    assert accept["object"]["type"] == "QuoteRequest"
    authorization = await _article(network, accept["result"])
    assert authorization["type"] == "QuoteAuthorization"
    assert authorization["id"] == accept["result"]
    assert authorization["attributedTo"] == BEN
    assert authorization["interactingObject"] == quote_id
    assert authorization["interactionTarget"] == object_id
    assert "quote authorized" in await _inbound_reasons(network)


async def test_a_quote_request_against_the_policy_is_rejected_with_a_logged_reason(
    network: Network,
) -> None:
    # Given a post that lets followers quote, and carol, who does not follow ben
    object_id = await _post(network)
    # When carol asks to quote it
    request, _ = _quote_request(network.other, "carol", object_id)
    await network.other.send("carol", request, f"{BEN}/inbox")
    await network.drain()
    # Then ben rejects it, no authorization is given, and the log says why
    (reject,) = network.other.received("Reject")
    assert reject["object"]["id"] == request["id"]
    assert network.other.received("Accept") == []
    assert "quote refused: only followers may quote" in await _inbound_reasons(network)


async def test_nobody_may_quote_a_post_that_says_so(network: Network) -> None:
    await _follow_ben(network, network.mastodon, "alice")
    object_id = await _post(network, quotes="nobody")

    request, _ = _quote_request(network.mastodon, "alice", object_id)
    await network.mastodon.send("alice", request, f"{BEN}/inbox")
    await network.drain()

    assert [r["object"]["id"] for r in network.mastodon.received("Reject")] == [request["id"]]
    assert "quote refused: the author allows no quotes" in await _inbound_reasons(network)


async def test_a_quote_request_for_something_not_ours_is_dropped(network: Network) -> None:
    request, _ = _quote_request(network.mastodon, "alice", f"{TEST_URL}/posts/nothing-here")
    await network.mastodon.send("alice", request, f"{BEN}/inbox")
    await network.drain()

    assert network.mastodon.received("Reject") == []
    assert "quote request for something that is not ours" in await _inbound_reasons(network)


async def test_replies_against_the_policy_are_refused_and_logged(network: Network) -> None:
    # Given alice follows ben, and ben's post takes replies from followers only
    await _follow_ben(network, network.mastodon, "alice")
    object_id = await _post(network, replies="followers")
    # When alice (a follower) and carol (not one) reply
    for server, name in ((network.mastodon, "alice"), (network.other, "carol")):
        reply = server.reply(name, object_id, f"{name} was there")
        assert (await server.send(name, reply, SHARED_INBOX)).status_code == 202
    await network.drain()
    # Then only alice's reply became a comment, and the log says why carol's did not
    authors = {note.author_id for note in await network.node.store.notes_with_status(None)}
    assert authors == {network.mastodon.actor_id("alice")}
    assert "reply refused: only followers may reply" in await _inbound_reasons(network)


async def test_a_members_only_post_refuses_every_remote_reply(network: Network) -> None:
    await _follow_ben(network, network.mastodon, "alice")
    object_id = await _post(network, replies="members")

    reply = network.mastodon.reply("alice", object_id, "me too")
    await network.mastodon.send("alice", reply, SHARED_INBOX)
    await network.drain()

    assert await network.node.store.notes_with_status(None) == []
    assert "reply refused: only members of this node may reply" in await _inbound_reasons(network)


async def test_the_write_form_sets_who_may_reply_and_quote(network: Network) -> None:
    # Given a member signed in on the write page, which offers both choices
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    page = await network.http.get(f"{TEST_URL}/write")
    assert 'name="replies"' in page.text and 'name="quotes"' in page.text
    form = {
        "csrf": await token(network.http),
        "kind": "blog",
        "title": "Allotment news",
        "body": "The beans are up.",
        "action": "publish",
    }
    # When she publishes for followers' replies and nobody's quotes, and tries a made-up choice
    bad = await network.http.post(f"{TEST_URL}/write", data={**form, "quotes": "everyone"})
    made = await network.http.post(
        f"{TEST_URL}/write", data={**form, "replies": "followers", "quotes": "nobody"}
    )
    # Then the made-up choice is refused with the choices, and the post carries hers
    assert bad.status_code == 400 and "quotes: choose one of anyone, followers, nobody" in bad.text
    assert made.status_code == 303, made.text
    policy = (await _article(network, TEST_URL + made.headers["location"]))["interactionPolicy"]
    ann = f"{TEST_URL}/users/ann"
    assert policy["canReply"]["automaticApproval"] == [f"{ann}/followers"]
    assert policy["canQuote"]["automaticApproval"] == [ann]
