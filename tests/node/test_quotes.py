"""Quotes of our posts, through the real inbox and the post page: the quotes we authorized and
quoting posts the policy allows are listed on the post's page like boosts, with a link; a quote
against the policy is refused with a logged reason and not shown; a deleted quote disappears.
Offers and requests carry the same policy, set on the write form and the CLI."""

from __future__ import annotations

from typing import Any

from node.content import publishing
from node.federation.actors import local_actor
from node.offers import proposals as offers

from ..conftest import TEST_URL
from ..fediverse import PUBLIC, FakeServer
from .conftest import Network
from .test_interaction_policy import _follow_ben, _inbound_reasons, _post, _quote_request
from .web import add_member, sign_in, token

AP = {"Accept": "application/activity+json"}
BEN = f"{TEST_URL}/users/ben"
SHARED_INBOX = f"{TEST_URL}/inbox"


def _quote_post(server: FakeServer, name: str, quoted: str) -> dict[str, Any]:
    """Mastodon 4.5's quote post: a Note with `quote` (FEP-044f) and the older `quoteUri`."""
    create = server.reply(name, quoted, "Worth reading")
    note = create["object"]
    del note["inReplyTo"]
    note["quote"] = note["quoteUri"] = quoted
    return create


async def _page(network: Network, object_id: str) -> str:
    response = await network.http.get(object_id, headers={"Accept": "text/html"})
    assert response.status_code == 200
    return response.text


async def test_an_authorized_quote_is_shown_on_the_post_page_with_a_link(
    network: Network,
) -> None:
    # Given alice follows ben, and asks to quote his post (followers may: the default)
    await _follow_ben(network, network.mastodon, "alice")
    object_id = await _post(network)
    assert "0 quotes" in await _page(network, object_id)
    request, quote_id = _quote_request(network.mastodon, "alice", object_id)
    await network.mastodon.send("alice", request, f"{BEN}/inbox")
    await network.drain()
    # Then the post's page counts it and links to her quoting post
    page = await _page(network, object_id)
    assert "1 quote" in page
    assert f'href="{quote_id}"' in page and "@alice@mastodon.example" in page


async def test_a_quote_post_is_kept_if_the_policy_allows_and_refused_if_not(
    network: Network,
) -> None:
    # Given ben's post lets followers quote, alice follows him, carol does not
    await _follow_ben(network, network.mastodon, "alice")
    object_id = await _post(network)
    # When both post quotes of it
    allowed = _quote_post(network.mastodon, "alice", object_id)
    refused = _quote_post(network.other, "carol", object_id)
    assert (await network.mastodon.send("alice", allowed, SHARED_INBOX)).status_code == 202
    assert (await network.other.send("carol", refused, SHARED_INBOX)).status_code == 202
    await network.drain()
    # Then alice's is shown, carol's is refused with the reason and not shown
    page = await _page(network, object_id)
    assert f'href="{allowed["object"]["id"]}"' in page
    assert refused["object"]["id"] not in page
    reasons = await _inbound_reasons(network)
    assert "quote of our post recorded" in reasons
    assert "quote refused: only followers may quote" in reasons

    # When alice deletes her quote, it is no longer shown
    delete = network.mastodon.simple("alice", "Delete", allowed["object"]["id"])
    assert (await network.mastodon.send("alice", delete, SHARED_INBOX)).status_code == 202
    await network.drain()
    assert allowed["object"]["id"] not in await _page(network, object_id)
    assert "quote of our post removed" in await _inbound_reasons(network)


async def _offer(network: Network, **policy: str) -> str:
    member = await network.node.store.local_actor("ben")
    assert member is not None
    draft = publishing.Draft("offer", "Bike repairs", "Two hours on Saturday.", **policy)  # type: ignore[arg-type]
    terms = offers.OfferDraft(hours="2")
    post = await offers.create_offer(
        network.node, local_actor(network.node.settings, member), draft, terms
    )
    return publishing.post_id(network.node, post)


async def test_an_offer_carries_its_policy_and_a_quote_request_against_it_is_refused(
    network: Network,
) -> None:
    # Given alice follows ben, who offers bike repairs and lets nobody quote the offer
    await _follow_ben(network, network.mastodon, "alice")
    object_id = await _offer(network, replies="followers", quotes="nobody")
    note = (await network.http.get(object_id, headers=AP)).json()
    assert note["interactionPolicy"]["canQuote"]["automaticApproval"] == [BEN]
    assert note["interactionPolicy"]["canReply"]["automaticApproval"] == [f"{BEN}/followers"]
    terms = [item for item in note["@context"] if isinstance(item, dict) and "QuoteRequest" in item]
    assert terms[-1]["QuoteRequest"] == "https://w3id.org/fep/044f#QuoteRequest"
    assert "purpose" in note  # still a FEP-0837 proposal
    # When alice asks to quote it
    request, _ = _quote_request(network.mastodon, "alice", object_id)
    await network.mastodon.send("alice", request, f"{BEN}/inbox")
    await network.drain()
    # Then ben rejects it, and the log says why
    assert [r["object"]["id"] for r in network.mastodon.received("Reject")] == [request["id"]]
    assert "quote refused: the author allows no quotes" in await _inbound_reasons(network)


async def test_the_write_form_sets_an_offer_s_policy(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    form = {
        "csrf": await token(network.http),
        "kind": "request",
        "title": "Help moving a sofa",
        "body": "One hour on Sunday.",
        "hours": "1",
        "replies": "anyone",
        "quotes": "anyone",
        "action": "publish",
    }
    made = await network.http.post(f"{TEST_URL}/write", data=form)
    assert made.status_code == 303, made.text
    note = (await network.http.get(TEST_URL + made.headers["location"], headers=AP)).json()
    assert note["interactionPolicy"]["canQuote"]["automaticApproval"] == [PUBLIC]
    assert note["purpose"] == "request"
