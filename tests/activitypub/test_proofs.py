"""FEP-8b32 proofs (eddsa-jcs-2022), checked against an independent implementation
(tests/independent_proofs.py): each side verifies what the other signed, and tampering fails."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from activitypub import proofs

from .. import independent_proofs

METHOD = "https://conode.example/users/ben#ed25519-key"
NOTE: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/activitystreams", {"sensitive": "as:sensitive"}],
    "id": "https://conode.example/posts/1",
    "type": "Note",
    "attributedTo": "https://conode.example/users/ben",
    "content": "<p>Twelve of us — “cleared” the path ✓</p>",
    "resourceQuantity": {"hasNumericalValue": 1.5, "whole": 2.0},
    "to": ["https://www.w3.org/ns/activitystreams#Public"],
}


def _lookup(key: Ed25519PublicKey) -> proofs.KeyLookup:
    async def lookup(method: str) -> Ed25519PublicKey:
        assert method == METHOD
        return key

    return lookup


def test_our_proof_verifies_with_the_independent_implementation() -> None:
    key = Ed25519PrivateKey.generate()
    signed = proofs.sign(NOTE, key, METHOD)

    published = independent_proofs.public_key(proofs.multikey(key.public_key()))

    assert signed["proof"]["proofValue"].startswith("z")
    assert independent_proofs.verifies(signed, published)


async def test_a_tampered_object_fails_both_implementations() -> None:
    key = Ed25519PrivateKey.generate()
    tampered = {**proofs.sign(NOTE, key, METHOD), "content": "<p>Send money</p>"}

    assert not independent_proofs.verifies(tampered, key.public_key())
    with pytest.raises(proofs.ProofError, match="does not verify"):
        await proofs.verify(tampered, _lookup(key.public_key()))


async def test_we_verify_a_proof_the_independent_implementation_made() -> None:
    key = Ed25519PrivateKey.generate()
    signed = independent_proofs.sign(NOTE, key, METHOD)

    assert await proofs.verify(signed, _lookup(key.public_key())) == METHOD


async def test_a_proof_by_another_key_or_of_another_kind_is_refused() -> None:
    signed = proofs.sign(NOTE, Ed25519PrivateKey.generate(), METHOD)
    other = Ed25519PrivateKey.generate().public_key()
    rsa_like = {**signed, "proof": {**signed["proof"], "cryptosuite": "eddsa-rdfc-2022"}}

    with pytest.raises(proofs.ProofError, match="does not verify"):
        await proofs.verify(signed, _lookup(other))
    with pytest.raises(proofs.ProofError, match="unsupported proof type"):
        await proofs.verify(rsa_like, _lookup(other))
    with pytest.raises(proofs.ProofError, match="no proof"):
        await proofs.verify(NOTE, _lookup(other))


def test_multikeys_round_trip_and_refuse_other_codecs() -> None:
    public = Ed25519PrivateKey.generate().public_key()
    encoded = proofs.multikey(public)

    assert encoded.startswith("z6Mk")  # what every Ed25519 multikey looks like
    assert proofs.public_key_from_multikey(encoded) == public
    with pytest.raises(proofs.ProofError):
        proofs.public_key_from_multikey("z" + proofs.base58btc(b"\xe7\x01" + bytes(33)))
