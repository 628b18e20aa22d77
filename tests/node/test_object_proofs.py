"""FEP-8b32 on the wire: each actor publishes an Ed25519 Multikey (FEP-521a) in
`assertionMethod`, and a post's Create and its Article arrive with eddsa-jcs-2022 proofs that an
independent implementation (tests/independent_proofs.py) verifies with that key."""

from __future__ import annotations

import copy

from .. import independent_proofs
from ..conftest import TEST_URL
from .conftest import Network

AP = {"Accept": "application/activity+json"}
BEN = f"{TEST_URL}/users/ben"
SHARED_INBOX = f"{TEST_URL}/inbox"


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
    # And a tampered copy does not
    tampered = copy.deepcopy(article)
    tampered["content"] = "<p>Send your bank details</p>"
    assert not independent_proofs.verifies(tampered, key)
    tampered_create = copy.deepcopy(create)
    tampered_create["object"]["name"] = "Something else"
    assert not independent_proofs.verifies(tampered_create, key)
