"""An independent eddsa-jcs-2022 implementation (W3C Data Integrity EdDSA Cryptosuites v1.0,
section 3.3) for the tests: JCS from the `jcs` package and base58 from the `base58` package,
written from the specification, never importing activitypub/proofs.py."""

from __future__ import annotations

import hashlib
from typing import Any

import base58
import jcs
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def public_key(multibase: str) -> Ed25519PublicKey:
    assert multibase.startswith("z"), "base58btc multibase"
    decoded = base58.b58decode(multibase[1:])
    assert decoded[:2] == b"\xed\x01", "ed25519-pub multicodec"
    return Ed25519PublicKey.from_public_bytes(decoded[2:])


def multibase(key: Ed25519PublicKey) -> str:
    """FEP-521a publicKeyMultibase of an Ed25519 key (multicodec 0xed01, base58btc)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58.b58encode(b"\xed\x01" + raw).decode()


def _hash_data(document: dict[str, Any], proof_options: dict[str, Any]) -> bytes:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = {k: v for k, v in proof_options.items() if k != "proofValue"}
    if "@context" in unsecured:
        config["@context"] = unsecured["@context"]
    return (
        hashlib.sha256(jcs.canonicalize(config)).digest()
        + hashlib.sha256(jcs.canonicalize(unsecured)).digest()
    )


def verifies(document: dict[str, Any], key: Ed25519PublicKey) -> bool:
    proof = document["proof"]
    if (proof["type"], proof["cryptosuite"]) != ("DataIntegrityProof", "eddsa-jcs-2022"):
        return False
    signature = base58.b58decode(proof["proofValue"][1:])
    try:
        key.verify(signature, _hash_data(document, proof))
    except Exception:
        return False
    return True


def sign(document: dict[str, Any], key: Ed25519PrivateKey, method: str) -> dict[str, Any]:
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": method,
        "proofPurpose": "assertionMethod",
        "created": "2026-01-01T00:00:00Z",
    }
    value = "z" + base58.b58encode(key.sign(_hash_data(document, options))).decode()
    return {**document, "proof": {**options, "proofValue": value}}
