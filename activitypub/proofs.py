"""Object integrity proofs (FEP-8b32): `DataIntegrityProof` with the `eddsa-jcs-2022` cryptosuite
(W3C Data Integrity EdDSA Cryptosuites v1.0, section 3.3), and Ed25519 keys as FEP-521a
`Multikey`s.

Signing: the proof options (type, cryptosuite, verificationMethod, proofPurpose, created) get the
document's `@context`; the signature covers SHA-256(JCS(options)) || SHA-256(JCS(document
without proof)), and goes in `proofValue` as base58btc multibase (`z…`). JCS is RFC 8785.
Sans-I/O: verification takes the verification method's public key from an injected lookup.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .keys import pkcs8_pem
from .vocab import Document

CRYPTOSUITE = "eddsa-jcs-2022"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v1"
_ED25519_PUB = b"\xed\x01"  # multicodec ed25519-pub, varint-encoded
_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

KeyLookup = Callable[[str], Awaitable[Ed25519PublicKey]]


class ProofError(Exception):
    """A proof that does not verify; `reason` is short enough to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- encodings ---------------------------------------------------------------------------------


def canonical(value: Any) -> bytes:
    """RFC 8785 JSON Canonicalization: sorted keys (by UTF-16 code units), no whitespace,
    ECMAScript number form (an integral float is written as an integer)."""
    return _jcs(value).encode("utf-8")


def _jcs(value: Any) -> str:
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: item[0].encode("utf-16-be"))
        return "{" + ",".join(f"{_jcs(str(k))}:{_jcs(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_jcs(item) for item in value) + "]"
    if isinstance(value, float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ProofError("a number JSON cannot carry")
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def base58btc(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    encoded = ""
    while number:
        number, remainder = divmod(number, 58)
        encoded = _ALPHABET[remainder] + encoded
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + encoded


def from_base58btc(text: str) -> bytes:
    number = 0
    for char in text:
        index = _ALPHABET.find(char)
        if index < 0:
            raise ProofError("malformed base58btc")
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def multikey(public: Ed25519PublicKey) -> str:
    """FEP-521a publicKeyMultibase: `z` + base58btc(0xed01 + the 32 raw key bytes)."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58btc(_ED25519_PUB + raw)


def public_key_from_multikey(value: str) -> Ed25519PublicKey:
    if not value.startswith("z"):
        raise ProofError("not a base58btc multibase key")
    decoded = from_base58btc(value[1:])
    if not decoded.startswith(_ED25519_PUB) or len(decoded) != 34:
        raise ProofError("not an Ed25519 multikey")
    return Ed25519PublicKey.from_public_bytes(decoded[2:])


# --- keys --------------------------------------------------------------------------------------


def generate_ed25519_pem() -> str:
    return pkcs8_pem(Ed25519PrivateKey.generate())


def load_ed25519_pem(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ProofError("not an Ed25519 private key")
    return key


# --- proofs ------------------------------------------------------------------------------------


def _hash_data(document: Document, options: Document) -> bytes:
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    config = dict(options)
    if "@context" in document:
        config["@context"] = document["@context"]
    config_hash = hashlib.sha256(canonical(config)).digest()
    return config_hash + hashlib.sha256(canonical(unsecured)).digest()


def sign(
    document: Document,
    key: Ed25519PrivateKey,
    verification_method: str,
    *,
    created: datetime | None = None,
) -> Document:
    """A copy of `document` with a `proof` (assertionMethod) by `verification_method`."""
    moment = (created or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    options: Document = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
        "created": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    signature = key.sign(_hash_data(document, options))
    return {**document, "proof": {**options, "proofValue": "z" + base58btc(signature)}}


async def verify(document: Document, key_lookup: KeyLookup) -> str:
    """Check the document's one eddsa-jcs-2022 proof; returns its verification method."""
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise ProofError("no proof")
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError("unsupported proof type")
    if proof.get("proofPurpose") != "assertionMethod":
        raise ProofError("unsupported proof purpose")
    method, value = proof.get("verificationMethod"), proof.get("proofValue")
    if not isinstance(method, str) or not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("malformed proof")
    options = {k: v for k, v in proof.items() if k not in ("proofValue", "@context")}
    public = await key_lookup(method)
    try:
        public.verify(from_base58btc(value[1:]), _hash_data(document, options))
    except InvalidSignature:
        raise ProofError("proof does not verify") from None
    return method


def assertion_keys(actor: Document) -> dict[str, str]:
    """The actor's Ed25519 assertion keys (FEP-521a): {verification method id: multibase}.
    Only Multikeys the actor controls itself, with an id in its own document (`<actor>#…`)."""
    actor_id = actor.get("id")
    methods = actor.get("assertionMethod")
    found: dict[str, str] = {}
    for method in methods if isinstance(methods, list) else [methods]:
        if not isinstance(method, dict) or method.get("type") != "Multikey":
            continue
        method_id, value = method.get("id"), method.get("publicKeyMultibase")
        if method.get("controller") != actor_id or not isinstance(method_id, str):
            continue
        if method_id.split("#", 1)[0] != actor_id or not isinstance(value, str):
            continue
        try:
            public_key_from_multikey(value)
        except (ProofError, ValueError):
            continue
        found[method_id] = value
    return found


def supported(document: Document) -> bool:
    """Whether the document carries a proof of the kind `verify` checks (others are ignored:
    a proof we cannot read is not a proof that failed)."""
    proof = document.get("proof")
    return (
        isinstance(proof, dict)
        and proof.get("type") == "DataIntegrityProof"
        and proof.get("cryptosuite") == CRYPTOSUITE
    )
