"""FEP-8b32 on the wire: each actor publishes an Ed25519 Multikey (FEP-521a) in
`assertionMethod`, and a post's Create and its Article arrive with eddsa-jcs-2022 proofs that an
independent implementation (tests/independent_proofs.py) verifies with that key."""

from __future__ import annotations

import copy
from typing import Any

from node.content import publishing

from .. import independent_proofs
from ..conftest import TEST_URL
from ..jsonld import undefined_terms
from .conftest import Network

AP = {"Accept": "application/activity+json"}
BEN = f"{TEST_URL}/users/ben"
SHARED_INBOX = f"{TEST_URL}/inbox"
GROUP = f"{TEST_URL}/groups/community"


async def test_an_actor_publishes_its_ed25519_multikey(network: Network) -> None:
    actor = (await network.http.get(BEN, headers=AP)).json()

    (method,) = actor["assertionMethod"]
    assert method["id"] == f"{BEN}#ed25519-key"
    assert (method["type"], method["controller"]) == ("Multikey", BEN)
    assert method["publicKeyMultibase"].startswith("z6Mk")
    assert "https://w3id.org/security/multikey/v1" in actor["@context"]
    assert actor["publicKey"]["id"] == f"{BEN}#main-key"  # the RSA key stays for signatures


async def test_a_delivered_post_and_its_create_carry_proofs_that_verify_independently(
    network: Network,
) -> None:
    # Given alice follows ben
    follow = network.mastodon.follow("alice", BEN)
    assert (await network.mastodon.send("alice", follow, SHARED_INBOX)).status_code == 202
    await network.drain()
    # When ben publishes a post
    object_id = await network.post()
    await network.drain()
    (create,) = network.mastodon.received("Create")
    # Then the Create and the Article in it verify with ben's published Multikey
    actor = (await network.http.get(BEN, headers=AP)).json()
    key = independent_proofs.public_key(actor["assertionMethod"][0]["publicKeyMultibase"])
    article = create["object"]
    assert article["id"] == object_id
    assert create["proof"]["verificationMethod"] == f"{BEN}#ed25519-key"
    assert article["proof"]["verificationMethod"] == f"{BEN}#ed25519-key"
    assert independent_proofs.verifies(create, key)
    assert independent_proofs.verifies(article, key)
    # And `proof` is a defined term (the Data Integrity context is in the signed document)
    assert "https://w3id.org/security/data-integrity/v1" in create["@context"]
    assert undefined_terms(create) == []
    # And a tampered copy does not
    tampered = copy.deepcopy(article)
    tampered["content"] = "<p>Send your bank details</p>"
    assert not independent_proofs.verifies(tampered, key)
    tampered_create = copy.deepcopy(create)
    tampered_create["object"]["name"] = "Something else"
    assert not independent_proofs.verifies(tampered_create, key)


async def _key_of(network: Network, actor_id: str) -> Any:
    actor = (await network.http.get(actor_id, headers=AP)).json()
    return independent_proofs.public_key(actor["assertionMethod"][0]["publicKeyMultibase"])


async def test_every_kind_of_activity_we_send_carries_a_proof_by_its_actor(
    network: Network,
) -> None:
    # Given alice follows ben and the group (each answers with an Accept)
    for target in (BEN, GROUP):
        follow = network.mastodon.follow("alice", target)
        assert (await network.mastodon.send("alice", follow, SHARED_INBOX)).status_code == 202
    await network.drain()
    # When ben publishes a post (the group announces it), edits it, then deletes it
    object_id = await network.post()
    await network.drain()
    post = await network.node.store.post(object_id.rsplit("/", 1)[-1])
    assert post is not None
    await publishing.edit_post(
        network.node, post, title="Canal path: done", body=None, summary=None
    )
    await network.drain()
    edited = await network.node.store.post(post.public_id)
    assert edited is not None
    await publishing.delete_post(network.node, edited)
    await network.drain()

    # Then each activity verifies with its actor's published key, independently of our code
    sent = {
        kind: network.mastodon.received(kind)
        for kind in ("Accept", "Create", "Announce", "Update", "Delete")
    }
    assert {kind: len(items) for kind, items in sent.items()} == {
        "Accept": 2,
        "Create": 1,
        "Announce": 1,
        "Update": 1,
        "Delete": 1,
    }
    keys = {actor: await _key_of(network, actor) for actor in (BEN, GROUP)}
    for kind, items in sent.items():
        for activity in items:
            assert activity["proof"]["verificationMethod"] == f"{activity['actor']}#ed25519-key"
            assert independent_proofs.verifies(activity, keys[activity["actor"]]), kind
            tampered = {**activity, "id": activity["id"] + "x"}
            assert not independent_proofs.verifies(tampered, keys[activity["actor"]]), kind
    # And the edited Article in the Update carries ben's proof too
    (update,) = sent["Update"]
    assert independent_proofs.verifies(update["object"], keys[BEN])

    # And a post served at its URL is signed by its author, so it can be passed on
    served = await network.http.get(object_id, headers=AP)
    assert served.status_code == 410  # deleted: a Tombstone, not signed
    other = await network.post("Second report")
    served_doc = (await network.http.get(other, headers=AP)).json()
    assert independent_proofs.verifies(served_doc, keys[BEN])
