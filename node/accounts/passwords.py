"""Member passwords: argon2id hashes (memory-hard), and generated first passwords."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from node.wording import WordedError

_hasher = PasswordHasher()

MIN_LENGTH = 10


class PasswordError(WordedError):
    """A password we refuse to set."""


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise PasswordError("a password needs at least {least} characters", least=MIN_LENGTH)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A password to print once: ~120 bits, URL-safe so it survives copy and paste."""
    return secrets.token_urlsafe(15)
