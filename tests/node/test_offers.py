"""Give and take (issue 4) against in-process servers over HTTP: an offer reaches Mastodon as a
Note that reads naturally and expands cleanly as JSON-LD; a reply becomes a response; match,
completion and the ledger; FEP-0837 Offer(Agreement) from a marketplace-aware server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from activitypub.vocab import AS_CONTEXT
from node.content import publishing
from node.federation.actors import local_actor
from node.moderation import rules as moderation
from node.offers import ledger, matching
from node.offers import proposals as offers
from node.offers.terms import OfferError
from node.storage import utcnow

from ..conftest import TEST_URL
from ..fediverse import FakeServer
from ..jsonld import predicates, undefined_terms
from .conftest import Network

AP = {"Accept": "application/activity+json"}
BEN = f"{TEST_URL}/users/ben"
GROUP = f"{TEST_URL}/groups/community"
SHARED_INBOX = f"{TEST_URL}/inbox"
VF = "https://w3id.org/valueflows/ont/vf#"
OM2 = "http://www.ontology-of-units-of-measure.org/resource/om-2/"
ALICE = "https://mastodon.example/users/alice"
CAROL = "https://gts.example/users/carol"
SOON = (utcnow() + timedelta(days=30)).date().isoformat()  # expiry: within a year


async def _offer(net: Network, kind: str = "offer", **terms: Any) -> str:
    row = await net.node.store.local_actor("ben")
    assert row is not None
    draft = publishing.Draft(kind, terms.pop("title", "Help in your garden"), "Weeding, pruning.")
    values = {"category": "gardening", "hours": "2"} | terms
    post = await offers.create_offer(
        net.node, local_actor(net.node.settings, row), draft, offers.OfferDraft(**values)
    )
    return publishing.post_id(net.node, post)


async def _send(net: Network, server: FakeServer, name: str, activity: dict[str, Any]) -> None:
    response = await server.send(name, activity, SHARED_INBOX)
    assert response.status_code == 202, response.text
    await net.drain()


async def _follow(net: Network, server: FakeServer, name: str, target: str) -> None:
    await _send(net, server, name, server.follow(name, target))


async def _responses(net: Network, object_id: str) -> list[Any]:
    _, offer = await offers.find_offer(net.node, object_id)
    return [response for response, _ in await net.node.store.responses_to(offer.id)]


def _fep_offer(server: FakeServer, name: str, satisfies: str, value: Any = "2") -> dict[str, Any]:
    """The FEP-0837 `Offer(Agreement)` a marketplace-aware server sends (the FEP's example)."""
    measure = {"hasUnit": "hour", "hasNumericalValue": value}
    agreement = {
        "type": "Agreement",
        "stipulates": {"type": "Commitment", "satisfies": satisfies, "resourceQuantity": measure},
    }
    activity = server.simple(name, "Offer", agreement)
    activity["@context"] = [AS_CONTEXT, {"vf": VF, "om2": OM2, "Agreement": "vf:Agreement"}]
    activity["to"] = [BEN]
    return activity


# --- publishing --------------------------------------------------------------------------------


async def test_an_offer_reaches_mastodon_as_a_note_that_reads_naturally(network: Network) -> None:
    # Given alice follows ben
    await _follow(network, network.mastodon, "alice", BEN)
    # When ben offers two hours of gardening
    object_id = await _offer(network, place="Riverside allotments", expires=SOON)
    await network.drain()
    # Then her server got a Create(Note) whose content says what, how long and how to respond
    (create,) = network.mastodon.received("Create")
    note = create["object"]
    assert note["type"] == "Note" and note["id"] == object_id
    assert (
        "<strong>Offer:</strong> Help in your garden · 2 hours · gardening · reply to take it up"
        in note["content"]
    )
    assert "Weeding, pruning." in note["content"] and "Riverside allotments" in note["content"]
    assert "summary" not in note  # Mastodon would hide the content behind a warning
    # And the FEP-0837 terms for marketplace-aware servers
    assert note["purpose"] == "offer"
    intent = note["publishes"]
    assert intent["id"] == f"{object_id}#primary" and intent["type"] == "Intent"
    assert intent["action"] == "deliverService"
    assert intent["resourceConformsTo"] == f"{TEST_URL}/offers/categories/gardening"
    assert intent["resourceQuantity"] == {"hasUnit": "hour", "hasNumericalValue": "2"}
    assert note["location"] == {"type": "Place", "name": "Riverside allotments"}
    assert note["endTime"] == f"{SOON}T23:59:59Z"


async def test_the_offer_terms_survive_json_ld_expansion(network: Network) -> None:
    await _follow(network, network.mastodon, "alice", BEN)
    await _offer(network, place="Riverside", expires=SOON)
    await network.drain()
    (create,) = network.mastodon.received("Create")
    assert undefined_terms(create) == []
    expanded = predicates(create)
    for term in ("purpose", "publishes", "action", "resourceConformsTo", "resourceQuantity"):
        assert VF + term in expanded
    assert {OM2 + "hasUnit", OM2 + "hasNumericalValue"} <= expanded
    assert "https://www.w3.org/ns/activitystreams#endTime" in expanded


def test_the_expansion_check_sees_an_undefined_term() -> None:
    document = {"@context": AS_CONTEXT, "type": "Note", "purpose": "offer", "publishes": {}}
    assert sorted(undefined_terms(document)) == ["term _:publishes", "term _:purpose"]
    assert undefined_terms({"@context": AS_CONTEXT, "type": "Intent"}) == ["type _:Intent"]


async def test_the_group_announces_an_offer_and_the_note_is_served(network: Network) -> None:
    await _follow(network, network.mastodon, "alice", GROUP)
    object_id = await _offer(
        network, kind="request", title="Lift to the clinic", hours="1", category="lifts"
    )
    await network.drain()
    (announce,) = network.mastodon.received("Announce")
    assert announce["object"] == object_id
    served = (await network.http.get(object_id, headers=AP)).json()
    assert served["type"] == "Note" and served["purpose"] == "request"
    assert (
        "Request:</strong> Lift to the clinic · 1 hour · lifts · reply to offer help"
        in (served["content"])
    )
    assert undefined_terms(served) == []


# --- responses, match, completion ------------------------------------------------------------


async def test_a_mastodon_reply_is_matched_completed_and_balanced(network: Network) -> None:
    object_id = await _offer(network)
    # Given alice replies from Mastodon: a response, held like any new comment
    reply = network.mastodon.reply(
        "alice", object_id, "I can help on Saturday", mention=(BEN, "@ben@conode.example")
    )
    await _send(network, network.mastodon, "alice", reply)
    (response,) = await _responses(network, object_id)
    assert response.actor_id == ALICE and response.kind == "reply"
    note = await network.node.store.note(reply["object"]["id"])
    assert note is not None and note.status == "pending"
    # When ben matches it
    agreement = await matching.match(network.node, None, object_id, response.id)
    await network.drain()
    # Then alice's server receives the Accept with the Agreement, and the Note is Updated taken
    (accept,) = network.mastodon.received("Accept")
    assert accept["object"] == reply["object"]["id"]
    assert accept["result"]["id"] == agreement.object_id
    assert accept["result"]["stipulates"]["satisfies"] == f"{object_id}#primary"
    assert accept["result"]["stipulates"]["provider"] == BEN
    assert accept["result"]["stipulates"]["receiver"] == ALICE
    assert undefined_terms(accept) == []
    (update,) = network.mastodon.received("Update")
    assert "Offer (taken):</strong>" in update["object"]["content"]
    # And, since Mastodon cannot show an Accept, a reply that mentions her
    (thanks,) = [c["object"] for c in network.mastodon.received("Create")]
    assert thanks["inReplyTo"] == reply["object"]["id"]
    assert {"type": "Mention", "href": ALICE, "name": ALICE} in thanks["tag"]
    assert "you are taking up this offer" in thanks["content"]
    assert update["object"]["publishes"]["availableQuantity"]["hasNumericalValue"] == "0"
    # When the exchange is done
    await ledger.complete(network.node, None, agreement.object_id, "2")
    await network.drain()
    # Then ben is +2, alice -2, and the ledger sums to zero
    balances = {b.account_id: b.balance for b in await ledger.balances(network.node)}
    assert balances == {BEN: 120, ALICE: -120}
    assert await network.node.store.ledger_total() == 0
    # And a public confirmation referencing the Agreement reached alice
    create = network.mastodon.received("Create")[-1]
    confirmation = create["object"]
    assert confirmation["context"] == agreement.object_id
    assert confirmation["inReplyTo"] == object_id
    assert "gave 2 hours" in confirmation["content"]
    assert undefined_terms(create) == []
    assert "Offer (done):</strong>" in network.mastodon.received("Update")[-1]["object"]["content"]


async def test_a_request_credits_the_responder(network: Network) -> None:
    object_id = await _offer(
        network, kind="request", title="Lift to the clinic", hours="1", category="lifts"
    )
    await _send(
        network,
        network.other,
        "carol",
        network.other.reply("carol", object_id, "I drive past there"),
    )
    (response,) = await _responses(network, object_id)
    agreement = await matching.match(network.node, None, object_id, response.id)
    await ledger.complete(network.node, None, object_id, "1.5")  # an offer id finds its agreement
    entries = await ledger.history(network.node, CAROL)
    assert [(e.agreement_id, e.minutes) for e in entries] == [(agreement.object_id, 90)]
    assert await network.node.store.ledger_total() == 0


async def test_an_fep_offer_of_an_agreement_is_a_response(network: Network) -> None:
    object_id = await _offer(network)
    # Given carol and bob each send a FEP-0837 Offer(Agreement)
    offer = _fep_offer(network.other, "carol", f"{object_id}#primary", "1.5")
    await _send(network, network.other, "carol", offer)
    other = _fep_offer(network.mastodon, "bob", f"{object_id}#primary")
    await _send(network, network.mastodon, "bob", other)
    carols, _ = await _responses(network, object_id)
    assert (carols.kind, carols.minutes, carols.actor_id) == ("agreement", 90, CAROL)
    # When ben accepts carol's
    agreement = await matching.match(network.node, None, object_id, carols.id)
    await network.drain()
    # Then carol gets the Accept of her Offer, and bob a Reject of his
    (accept,) = network.other.received("Accept")
    assert accept["object"] == offer["id"]  # FEP-0837: the Offer's id
    assert accept["result"]["stipulates"]["resourceQuantity"]["hasNumericalValue"] == "1.5"
    assert agreement.minutes == 90
    (reject,) = network.mastodon.received("Reject")
    assert (reject["object"], reject["actor"]) == (other["id"], BEN)


async def test_closing_rejects_pending_offers_of_agreements(network: Network) -> None:
    object_id = await _offer(network)
    offer = _fep_offer(network.other, "carol", f"{object_id}#primary")
    await _send(network, network.other, "carol", offer)
    await offers.close(network.node, None, object_id, "withdrawn")
    await network.drain()
    (reject,) = network.other.received("Reject")
    assert reject["object"] == offer["id"] and "closed" in reject["content"]


@pytest.mark.parametrize(
    ("satisfies", "value", "reason"),
    [
        ("{id}#primary", "-2", "more than 0"),
        ("{id}#primary", "1e9", "at most 100"),
        ("{id}#primary", "NaN", "more than 0"),
        ("{id}#primary", True, "not a number"),
        ("https://elsewhere.example/posts/x#primary", "2", "no proposal of ours"),
        ("{id}#reciprocal", "2", "no proposal of ours"),
    ],
)
async def test_hostile_offers_of_agreements_are_dropped(
    network: Network, satisfies: str, value: Any, reason: str
) -> None:
    object_id = await _offer(network)
    activity = _fep_offer(network.other, "carol", satisfies.format(id=object_id), value)
    await _send(network, network.other, "carol", activity)
    assert await _responses(network, object_id) == []
    (entry,) = await network.node.store.log_entries(direction="inbound", outcome="dropped")
    assert reason in entry["reason"]


async def test_remote_update_and_delete_of_a_response_are_honoured(network: Network) -> None:
    object_id = await _offer(network)
    reply = network.mastodon.reply("alice", object_id, "Saturday?")
    await _send(network, network.mastodon, "alice", reply)
    edited = dict(reply["object"], content="<p>Sunday works better</p>")
    await _send(
        network, network.mastodon, "alice", network.mastodon.simple("alice", "Update", edited)
    )
    (response,) = await _responses(network, object_id)
    _, note = await network.node.store.response(response.id) or (None, None)
    assert note is not None and "Sunday" in note.content_html
    tombstone = {"id": reply["object"]["id"], "type": "Tombstone"}
    await _send(
        network, network.mastodon, "alice", network.mastodon.simple("alice", "Delete", tombstone)
    )
    with pytest.raises(OfferError, match="was deleted"):
        await matching.match(network.node, None, object_id, response.id)
    # an Offer(Agreement) is withdrawn the same way, and can be updated
    fep = _fep_offer(network.other, "carol", f"{object_id}#primary", "2")
    await _send(network, network.other, "carol", fep)
    changed = _fep_offer(network.other, "carol", f"{object_id}#primary", "3") | {"id": fep["id"]}
    await _send(network, network.other, "carol", network.other.simple("carol", "Update", changed))
    assert [r.minutes for r in await _responses(network, object_id)] == [None, 180]


async def test_the_authors_own_reply_is_no_response(network: Network) -> None:
    object_id = await _offer(network)
    row = await network.node.store.local_actor("ben")
    assert row is not None
    from node.content import replies
    from node.offers import exchanges

    member = local_actor(network.node.settings, row)
    await replies.reply(
        network.node, member, object_id, "Still free", on_stored=exchanges.record_reply
    )
    assert await _responses(network, object_id) == []


# --- the board, closing, expiry ----------------------------------------------------------------


async def test_the_board_lists_open_first_by_category_newest_first(network: Network) -> None:
    older = await _offer(network, title="Older gardening", category="gardening")
    closed = await _offer(network, title="Closed care", category="care")
    newer = await _offer(network, title="Newer gardening", category="gardening")
    care = await _offer(network, title="Open care", category="care")
    await offers.close(network.node, None, closed, "withdrawn")
    board = (await network.http.get(f"{TEST_URL}/offers", headers=AP)).json()
    assert board["type"] == "OrderedCollection" and board["totalItems"] == 4
    page = (await network.http.get(board["first"], headers=AP)).json()
    assert [item["id"] for item in page["orderedItems"]] == [care, newer, older, closed]
    gardening = (
        await network.http.get(f"{TEST_URL}/offers/categories/gardening?page=1", headers=AP)
    ).json()
    assert [item["id"] for item in gardening["orderedItems"]] == [newer, older]
    missing = await network.http.get(f"{TEST_URL}/offers/categories/nope", headers=AP)
    assert missing.status_code == 404


async def test_close_and_expiry_update_the_offer(network: Network) -> None:
    await _follow(network, network.mastodon, "alice", BEN)
    withdrawn = await _offer(network, title="Withdrawn one")
    expiring = await _offer(network, title="Expiring one", expires=SOON)
    await offers.close(network.node, None, withdrawn, "withdrawn")
    _, offer = await offers.find_offer(network.node, expiring)
    await network.node.store.update_offer(offer.id, expires_at=utcnow() - timedelta(minutes=1))
    await network.drain()  # the worker expires it
    contents = [u["object"]["content"] for u in network.mastodon.received("Update")]
    assert any("Offer (withdrawn):</strong> Withdrawn one" in c for c in contents)
    assert any("Offer (expired):</strong> Expiring one" in c for c in contents)
    with pytest.raises(OfferError, match="already withdrawn"):
        await offers.close(network.node, None, withdrawn, "fulfilled")


async def test_the_agreement_is_served_at_its_id(network: Network) -> None:
    object_id = await _offer(network)
    await _send(
        network, network.mastodon, "alice", network.mastodon.reply("alice", object_id, "Me!")
    )
    (response,) = await _responses(network, object_id)
    agreement = await matching.match(network.node, None, object_id, response.id)
    served = (await network.http.get(agreement.object_id, headers=AP)).json()
    assert served["type"] == "Agreement" and served["id"] == agreement.object_id
    assert undefined_terms(served) == []


async def test_bad_completions_change_nothing(network: Network) -> None:
    object_id = await _offer(network)
    with pytest.raises(OfferError, match="has not been matched"):
        await ledger.complete(network.node, None, object_id, "2")
    await _send(
        network, network.mastodon, "alice", network.mastodon.reply("alice", object_id, "Me!")
    )
    (response,) = await _responses(network, object_id)
    agreement = await matching.match(network.node, None, object_id, response.id)
    for hours in ("-1", "0", "101", "1.1", "lots"):
        with pytest.raises(OfferError):
            await ledger.complete(network.node, None, agreement.object_id, hours)
    assert await ledger.balances(network.node) == []
    await ledger.complete(network.node, None, agreement.object_id, "2")
    with pytest.raises(OfferError, match="already completed"):
        await ledger.complete(network.node, None, agreement.object_id, "2")
    assert await network.node.store.ledger_total() == 0
    assert len(await ledger.history(network.node)) == 2


async def test_moderation_still_applies_to_responses(network: Network) -> None:
    object_id = await _offer(network)
    reply = network.mastodon.reply("alice", object_id, "spam spam")
    await _send(network, network.mastodon, "alice", reply)
    (response,) = await _responses(network, object_id)
    await moderation.set_comment_status(network.node.store, response.note_id, "rejected")
    with pytest.raises(OfferError, match="was rejected"):
        await matching.match(network.node, None, object_id, response.id)
    replies = (await network.http.get(f"{object_id}/replies", headers=AP)).json()
    assert replies["totalItems"] == 0


async def test_editing_an_offer_updates_its_note_and_keeps_its_terms(network: Network) -> None:
    await _follow(network, network.mastodon, "alice", BEN)
    object_id = await _offer(network)
    post, _ = await offers.find_offer(network.node, object_id)
    await offers.edit_offer(network.node, post, title="Help in your garden (May)", body=None,
                            summary=None)  # fmt: skip
    await network.drain()
    (update,) = network.mastodon.received("Update")
    note = update["object"]
    assert note["type"] == "Note" and note["name"] == "Help in your garden (May)"
    assert "Offer:</strong> Help in your garden (May) · 2 hours" in note["content"]
    assert note["publishes"]["resourceQuantity"]["hasNumericalValue"] == "2"
    with pytest.raises(publishing.PublishError, match="offers module"):
        await publishing.edit_post(network.node, post, title="x", body=None, summary=None)


# --- a member answers an offer elsewhere ---------------------------------------------------------


async def test_a_member_answering_a_remote_offer_records_its_agreement(network: Network) -> None:
    # Given alice's marketplace server published an offer and ben replied to it
    proposal_id = network.mastodon.new_id("alice")
    network.mastodon.objects[proposal_id] = {
        "@context": AS_CONTEXT, "id": proposal_id, "type": "Note", "name": "Lift to town",
        "attributedTo": ALICE, "content": "<p>Offer: Lift to town</p>",
    }  # fmt: skip
    row = await network.node.store.local_actor("ben")
    assert row is not None
    from node.content import replies
    from node.offers import exchanges

    member = local_actor(network.node.settings, row)
    answer = await replies.reply(
        network.node, member, proposal_id, "Yes please", on_stored=exchanges.record_reply
    )

    def accept(name: str, provider: str) -> dict[str, Any]:
        result = {
            "type": "Agreement",
            "id": "https://mastodon.example/agreements/1",
            "stipulates": {
                "type": "Commitment",
                "satisfies": f"{proposal_id}#primary",
                "resourceQuantity": {"hasUnit": "hour", "hasNumericalValue": "1"},
                "provider": provider,
                "receiver": BEN,
            },
        }
        return network.mastodon.simple(name, "Accept", answer.object_id) | {"result": result}

    def confirmation(name: str) -> dict[str, Any]:
        create = network.mastodon.reply(name, proposal_id, "Done!")
        create["object"] |= {
            "context": "https://mastodon.example/agreements/1",
            "provider": ALICE,
            "receiver": BEN,
            "resourceQuantity": {"hasUnit": "hour", "hasNumericalValue": "1"},
        }
        return create

    # When bob, on the same server, forges the Accept and the confirmation, nothing is recorded
    bob = "https://mastodon.example/users/bob"
    await _send(network, network.mastodon, "bob", accept("bob", bob))
    assert await network.node.store.agreements() == []
    # When alice accepts ben's answer, the agreement is recorded with her proposal's title
    await _send(network, network.mastodon, "alice", accept("alice", ALICE))
    (agreement,) = await network.node.store.agreements()
    assert (agreement.title, agreement.proposer_id, agreement.status) == (
        "Lift to town", ALICE, "agreed"
    )  # fmt: skip
    await _send(network, network.mastodon, "bob", confirmation("bob"))
    assert await ledger.balances(network.node) == []
    # And her confirmation writes the hour to our ledger, once
    for _ in range(2):
        await _send(network, network.mastodon, "alice", confirmation("alice"))
    balances = {b.account_id: b.balance for b in await ledger.balances(network.node)}
    assert balances == {ALICE: 60, BEN: -60}
    (done,) = await network.node.store.agreements()
    assert (done.status, done.completed_minutes) == ("completed", 60)
    # And ben was told of each step alice took, once, and of nothing bob forged
    told = await network.node.store.notifications_of(row.id)
    assert [(n["kind"], n["actor_id"]) for n in told] == [("hours", ALICE), ("agreement", ALICE)]
    assert told[0]["url"] == "https://mastodon.example/agreements/1"


async def test_the_content_of_an_offer_of_an_agreement_is_sanitised(network: Network) -> None:
    object_id = await _offer(network)
    activity = _fep_offer(network.other, "carol", f"{object_id}#primary")
    activity["content"] = (
        '<p>I can do Saturday</p><script>alert(1)</script><img src="x" onerror="alert(2)">'
        '<a href="javascript:alert(3)">me</a>'
    )
    await _send(network, network.other, "carol", activity)
    note = await network.node.store.note(activity["id"])
    assert note is not None and "I can do Saturday" in note.content_html
    for trace in ("<script", "alert(", "onerror", "javascript:", "<img"):
        assert trace not in note.content_html, note.content_html
