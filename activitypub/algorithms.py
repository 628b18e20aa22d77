"""Signature algorithms by RFC 9421 name: which fit a key, signing and verifying bytes."""

from __future__ import annotations

import functools

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from activitypub.keys import PublicKey
from activitypub.signature_checks import SignatureError

ALGORITHM_KEYS: dict[str, type] = {
    "rsa-v1_5-sha256": rsa.RSAPublicKey,
    "rsa-pss-sha512": rsa.RSAPublicKey,
    "ecdsa-p256-sha256": ec.EllipticCurvePublicKey,
    "ed25519": ed25519.Ed25519PublicKey,
}
_PSS_SHA512 = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
_PKCS1V15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


def algorithms_for(public: PublicKeyTypes, alg: str | None) -> tuple[str, ...]:
    # Without an alg, an RSA key is tried with PKCS#1 v1.5 SHA-256 (what the fediverse sends)
    # and then RSASSA-PSS SHA-512 (the RFC 9421 Appendix B examples).
    fitting = tuple(name for name, kind in ALGORITHM_KEYS.items() if isinstance(public, kind))
    if not fitting:
        raise SignatureError("unsupported key type")
    if alg is None:
        return fitting
    if alg not in fitting:
        raise SignatureError("algorithm does not match key")
    return (alg,)


def verifies(key: PublicKey, alg: str | None, signature: bytes, data: bytes) -> bool:
    public = load_public_key(key.pem)
    return any(_verify_one(public, name, signature, data) for name in algorithms_for(public, alg))


def _verify_one(public: PublicKeyTypes, alg: str, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(public, rsa.RSAPublicKey) and alg == "rsa-pss-sha512":
            public.verify(signature, data, _PSS_SHA512, hashes.SHA512())
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(_raw_to_der(signature), data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, data)
        else:
            return False
    except InvalidSignature:
        return False
    return True


def sign_bytes(private: PrivateKeyTypes, alg: str | None, data: bytes) -> bytes:
    if alg is None and isinstance(private, rsa.RSAPrivateKey):
        # What algorithms_for() picks first for an RSA key, without deriving the public key
        # for every signature (a delivery's case)
        return private.sign(data, _PKCS1V15, _SHA256)
    alg = algorithms_for(private.public_key(), alg)[0]
    if isinstance(private, rsa.RSAPrivateKey) and alg == "rsa-pss-sha512":
        return private.sign(data, _PSS_SHA512, hashes.SHA512())
    if isinstance(private, rsa.RSAPrivateKey):
        return private.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(private, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(private.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if isinstance(private, ed25519.Ed25519PrivateKey):
        return private.sign(data)
    raise SignatureError("unsupported key type")


def _raw_to_der(signature: bytes) -> bytes:
    # RFC 9421 section 3.3.4 sends r || s; cryptography verifies DER.
    if len(signature) != 64:
        raise InvalidSignature
    return encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )


@functools.lru_cache(maxsize=4096)  # every request a server sends is verified with one key
def load_public_key(pem: str) -> PublicKeyTypes:
    try:
        return serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm):
        raise SignatureError("unusable key") from None


@functools.lru_cache(maxsize=256)
def load_private_key(pem: str) -> PrivateKeyTypes:
    """Parsed once per process, as keys.load_private_pem: an RSA key costs ~40-80 ms to load
    (cryptography checks it), which blocked the event loop on every RFC 9421 signature."""
    try:
        return serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError, UnsupportedAlgorithm):
        raise SignatureError("unusable key") from None
