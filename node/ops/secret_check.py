"""Whether the node secret belongs to this database: the check `init`, `serve`, `worker` and
`backup` make before they start, so a lost or replaced `keys/node.secret` stops them with a
sentence instead of a node that serves pages but can sign nothing.

The check unseals every local actor's key (AES-GCM, microseconds each; no RSA parsing).
"""

from __future__ import annotations

from pathlib import Path

from node.settings import Settings
from node.storage import Store, sqlite_path

from . import vault


def mismatch_sentence(path: Path) -> str:
    return (
        f"the node secret at {path} does not open the keys sealed in this database: put back "
        "the node.secret that `conode init` first made for this database (CONODE_KEYS_DIR), "
        "or restore the node from a backup with `conode restore FILE`"
    )


def missing_sentence(path: Path) -> str:
    return (
        f"this database holds keys sealed with a node secret, but there is no {path}: put "
        "that node.secret back (CONODE_KEYS_DIR), or restore the node from a backup with "
        "`conode restore FILE`; a new secret would open none of these keys"
    )


async def check_secret(store: Store, secret: bytes, path: Path) -> int:
    """Raise VaultError (the mismatch sentence) unless `secret` opens every sealed key;
    returns how many keys it opened."""
    sealed_keys = await store.sealed_keys()
    for username, sealed in sealed_keys:
        try:
            vault.unseal(secret, username, sealed)
        except vault.VaultError:
            raise vault.VaultError(mismatch_sentence(path)) from None
    return len(sealed_keys)


async def _check_store(store: Store, path: Path, *, required: bool) -> bytes | None:
    if await store.schema_revision() is None or not await store.sealed_keys():
        return vault.load_secret(path) if required else None
    if not path.exists():
        raise vault.VaultError(missing_sentence(path))
    secret = vault.load_secret(path)
    await check_secret(store, secret, path)
    return secret


async def _check(settings: Settings, *, required: bool) -> bytes | None:
    store = Store(settings.database_url)
    await store.connect()
    try:
        return await _check_store(store, settings.secret_path, required=required)
    finally:
        await store.disconnect()


async def check_before_init(settings: Settings) -> None:
    """Before `conode init` writes anything: a database that already holds sealed keys needs
    the secret they were sealed with, never a new one."""
    path = sqlite_path(settings.database_url)
    if path is None or path.exists():
        await _check(settings, required=False)


async def load_checked_secret(settings: Settings) -> bytes:
    """The node secret, once it is known to open every key in the database (`serve`,
    `worker`, `backup`)."""
    secret = await _check(settings, required=True)
    assert secret is not None
    return secret
