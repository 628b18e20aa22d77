"""`conode backup FILE` and `conode restore FILE`: the database and the node secret in one file.

The file is a tar archive of three members:

- `manifest.json`: format, conode version, schema revision, which database, the SHA-256 of the
  database member, and the node secret *encrypted*: AES-256-GCM under a key derived from the
  operator's passphrase with scrypt (n=2**15, r=8, p=1), with the database's SHA-256 as
  associated data. The secret opens every private key sealed in the database (node/ops/vault.py),
  so it is never written in clear; and a database member changed after the backup makes the
  secret fail to decrypt, so a tampered backup is refused before anything is restored.
  It also lists how many rows each table holds (`row_counts`): a restore reads every table's
  count back and fails, naming the table, when one differs.
- `database.sqlite` (SQLite, an online snapshot) or `database.jsonl` (PostgreSQL, a logical
  dump); see node/ops/dump.py.

The database itself is not encrypted (it holds sealed keys, argon2 password hashes and the
community's content): the archive is written with mode 0600; keep it like the database.
Restore refuses to replace an existing database or a different secret unless `--force`; it
restores at the backup's schema revision, migrates to the current one, and checks that the
secret opens every member's key before it reports success.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import secrets
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from node import __version__

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite"
DUMP_MEMBER = "database.jsonl"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MIN_PASSPHRASE = 10


class BackupError(Exception):
    """A backup that cannot be written or restored; the message says what to do."""


@dataclass(frozen=True)
class Archive:
    manifest: dict[str, Any]
    database: bytes  # the database member's bytes
    member: str


def _derive(passphrase: str, salt: bytes) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return kdf.derive(passphrase.encode())


def check_passphrase(passphrase: str) -> str:
    if len(passphrase) < MIN_PASSPHRASE:
        raise BackupError(f"the passphrase must be at least {MIN_PASSPHRASE} characters long")
    return passphrase


def seal_secret(secret: bytes, passphrase: str, database_sha256: str) -> dict[str, str]:
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    sealed = AESGCM(_derive(passphrase, salt)).encrypt(nonce, secret, database_sha256.encode())
    encode = base64.b64encode
    return {
        "cipher": "AES-256-GCM",
        "kdf": f"scrypt n={SCRYPT_N} r={SCRYPT_R} p={SCRYPT_P}",
        "salt": encode(salt).decode(),
        "nonce": encode(nonce).decode(),
        "sealed": encode(sealed).decode(),
    }


def open_secret(sealed: dict[str, str], passphrase: str, database_sha256: str) -> bytes:
    salt, nonce, data = (base64.b64decode(sealed[k]) for k in ("salt", "nonce", "sealed"))
    try:
        return AESGCM(_derive(passphrase, salt)).decrypt(nonce, data, database_sha256.encode())
    except InvalidTag:
        raise BackupError(
            "the passphrase is wrong, or the backup was changed after it was written"
        ) from None


def manifest_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest(
    *,
    database: str,
    member: str,
    revision: str | None,
    data: bytes,
    secret: dict[str, str],
    row_counts: dict[str, int],
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "conode_version": __version__,
        "created_at": datetime.now(UTC).isoformat(),
        "database": database,
        "schema_revision": revision,
        "member": member,
        "database_sha256": manifest_digest(data),
        "secret": secret,
        "row_counts": row_counts,
    }


def write_archive(path: Path, archive: Archive) -> None:
    """Write atomically (a temporary file renamed over FILE) with mode 0600."""
    path = path.resolve()
    try:
        fd, temporary = tempfile.mkstemp(prefix=".conode-backup-", dir=path.parent)
    except OSError as exc:
        raise BackupError(f"cannot write a backup into {path.parent}: {exc.strerror}") from None
    written = False
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as file, tarfile.open(fileobj=file, mode="w:gz") as tar:
            for name, data in (
                (MANIFEST, json.dumps(archive.manifest, indent=2).encode()),
                (archive.member, archive.database),
            ):
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(data), 0o600
                tar.addfile(info, io.BytesIO(data))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
        written = True
    finally:
        if not written:  # a half-written temporary file is never left behind
            Path(temporary).unlink(missing_ok=True)


def read_archive(path: Path) -> Archive:
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            found = {m.name: m for m in tar.getmembers() if m.isfile()}
            meta = json.loads(_member(tar, found, MANIFEST))
            if meta.get("format") != FORMAT:
                raise BackupError(f"{path} is a backup format this conode does not know")
            member = str(meta["member"])
            return Archive(meta, _member(tar, found, member), member)
    except (OSError, tarfile.TarError, ValueError, KeyError) as exc:
        raise BackupError(f"{path} is not a readable conode backup ({exc})") from None


def _member(tar: tarfile.TarFile, found: dict[str, tarfile.TarInfo], name: str) -> bytes:
    info = found.get(name)
    extracted = tar.extractfile(info) if info is not None else None
    if extracted is None:
        raise BackupError(f"the backup has no {name}")
    return extracted.read()


def verify(archive: Archive) -> None:
    if manifest_digest(archive.database) != archive.manifest["database_sha256"]:
        raise BackupError("the backup's database does not match its manifest: it was changed")
