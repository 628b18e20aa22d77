"""Object integrity proofs (FEP-8b32) on what our actors publish, with an Ed25519 key per actor.

Each local actor gets an Ed25519 key next to its RSA one, sealed the same way (node/ops/vault.py,
bound to `<username>#ed25519`), and published in `assertionMethod` as a FEP-521a `Multikey`
(`<actor>#ed25519-key`). Actors made before the key existed get one on first use or at
`conode init`. with_proofs() signs an outgoing activity and the object embedded in it, the
object first, so the activity's proof covers the object's.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from activitypub import proofs
from activitypub.vocab import Document
from node.context import Node
from node.ops import vault
from node.storage import LocalActorRow, Store

from .actors import ED25519_FRAGMENT, LocalActor, ed25519_owner, ensure_ed25519_key


async def ensure_keys(store: Store, secret: bytes) -> int:
    """Give every local actor without one an Ed25519 key; returns how many were made."""
    missing = [row for row in await store.local_actors() if row.ed25519_public is None]
    for row in missing:
        await ensure_ed25519_key(store, secret, row)
    return len(missing)


def signing_key(row: LocalActorRow, secret: bytes) -> Ed25519PrivateKey | None:
    if row.ed25519_private_sealed is None:
        return None
    pem = vault.unseal(secret, ed25519_owner(row.username), row.ed25519_private_sealed)
    return proofs.load_ed25519_pem(pem)


async def with_proofs(node: Node, actor: LocalActor, activity: Document) -> Document:
    """`activity` signed by `actor`, and its embedded object too when the actor wrote it."""
    row = await ensure_ed25519_key(node.store, node.secret, actor.row)
    key = signing_key(row, node.secret)
    if key is None:
        return activity
    method = actor.actor_id + ED25519_FRAGMENT
    embedded = activity.get("object")
    if isinstance(embedded, dict) and embedded.get("attributedTo") == actor.actor_id:
        activity = {**activity, "object": proofs.sign(embedded, key, method)}
    return proofs.sign(activity, key, method)
