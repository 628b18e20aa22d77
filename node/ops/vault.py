"""The node secret and private keys sealed with it (AES-256-GCM) for storage in the database.

Every web and worker process needs the same secret file; the database alone never yields a key.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SECRET_BYTES = 32
NONCE_BYTES = 12
SEAL_VERSION = "v1"


class VaultError(Exception):
    """The secret is missing or does not open a sealed key."""


def create_secret(path: Path) -> bool:
    """Write a new secret (mode 0600) unless one exists; True when one was created."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded = base64.b64encode(secrets.token_bytes(SECRET_BYTES)) + b"\n"
    # O_EXCL: two `conode init` runs at once must not overwrite each other's secret.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(encoded)
    return True


def load_secret(path: Path) -> bytes:
    try:
        secret = base64.b64decode(path.read_bytes().strip(), validate=True)
    except FileNotFoundError:
        raise VaultError(f"no node secret at {path}: run `conode init` first") from None
    except ValueError:
        raise VaultError(f"{path} is not a node secret (expected base64)") from None
    if len(secret) != SECRET_BYTES:
        raise VaultError(f"{path} holds {len(secret)} bytes, expected {SECRET_BYTES}")
    return secret


def seal(secret: bytes, owner: str, private_pem: str) -> str:
    """Encrypt a PEM; `owner` is bound as associated data so sealed keys cannot be swapped."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(secret).encrypt(nonce, private_pem.encode("ascii"), owner.encode())
    return f"{SEAL_VERSION}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def unseal(secret: bytes, owner: str, sealed: str) -> str:
    version, _, payload = sealed.partition(":")
    if version != SEAL_VERSION:
        raise VaultError(f"sealed key for {owner} has unknown format {version!r}")
    raw = base64.b64decode(payload)
    try:
        plain = AESGCM(secret).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], owner.encode())
    except InvalidTag:
        raise VaultError(
            f"the node secret does not open the key of {owner}: is CONODE_KEYS_DIR the one "
            "`conode init` used for this database?"
        ) from None
    return plain.decode("ascii")
