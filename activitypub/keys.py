"""RSA key generation and PEM handling, as frozen values."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

KEY_SIZE = 2048
PUBLIC_EXPONENT = 65537


class InvalidKeyError(ValueError):
    """A PEM document that is not a usable RSA key."""


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    owner: str
    pem: str

    def load(self) -> rsa.RSAPublicKey:
        return load_public_pem(self.pem)


@dataclass(frozen=True, repr=False)
class PrivateKey:
    """A signing key; its repr never shows the key material."""

    key_id: str
    pem: str

    def __repr__(self) -> str:
        return f"PrivateKey(key_id={self.key_id!r})"

    def load(self) -> rsa.RSAPrivateKey:
        return load_private_pem(self.pem)


def generate_private_pem() -> str:
    return pkcs8_pem(rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_SIZE))


def pkcs8_pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    """A private key as unencrypted PKCS#8 PEM (sealed by node/ops/vault.py before storage)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_pem_from_private(private_pem: str) -> str:
    public = load_private_pem(private_pem).public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


@functools.lru_cache(maxsize=4096)
def load_public_pem(pem: str) -> rsa.RSAPublicKey:
    """Parsed once per process: each signed request a server sends is verified with its key."""
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise InvalidKeyError("not a PEM public key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidKeyError("not an RSA public key")
    return key


@functools.lru_cache(maxsize=256)
def load_private_pem(pem: str) -> rsa.RSAPrivateKey:
    """Parsed once per process: cryptography checks an RSA private key on every load (~80 ms),
    which every signed delivery and fetch would otherwise pay again."""
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise InvalidKeyError("not an unencrypted PEM private key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidKeyError("not an RSA private key")
    return key
