"""Object integrity proofs (FEP-8b32) on what our actors publish, with an Ed25519 key per actor.

Each local actor gets an Ed25519 key next to its RSA one, sealed the same way (node/ops/vault.py,
bound to `<username>#ed25519`), and published in `assertionMethod` as a FEP-521a `Multikey`
(`<actor>#ed25519-key`). Actors made before the key existed get one on first use or at
`conode init`. with_proofs() signs an outgoing activity and the object embedded in it, the
object first, so the activity's proof covers the object's.

Incoming proofs (verify_by, incoming_problem) are checked with the key the author publishes in
its `assertionMethod`, cached with its actor (remote_actors.assertion_keys), and the key must be
the author's own: its verification method is `<author>#…`.
"""

from __future__ import annotations

import json
import logging

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from activitypub import proofs
from activitypub.vocab import Document, first_id
from node.context import Node
from node.ops import vault
from node.storage import LocalActorRow, Store, utcnow

from . import remote
from .actors import ED25519_FRAGMENT, LocalActor, ed25519_owner, ensure_ed25519_key, local_actor

logger = logging.getLogger(__name__)


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


async def _key_of(node: Node, actor: LocalActor) -> Ed25519PrivateKey | None:
    row = await ensure_ed25519_key(node.store, node.secret, actor.row)
    return signing_key(row, node.secret)


def _sign_as(actor: LocalActor, key: Ed25519PrivateKey, document: Document) -> Document:
    """Signed; a document with its own `@context` gets the Data Integrity context in it first,
    so `proof` is a defined term (an embedded object without one is covered by its parent's)."""
    context = document.get("@context")
    if context is not None:
        listed = context if isinstance(context, list) else [context]
        if proofs.DATA_INTEGRITY_CONTEXT not in listed:
            document = {**document, "@context": [*listed, proofs.DATA_INTEGRITY_CONTEXT]}
    return proofs.sign(document, key, actor.actor_id + ED25519_FRAGMENT)


async def with_proofs(node: Node, actor: LocalActor, activity: Document) -> Document:
    """`activity` signed by `actor`, and its embedded object too when the actor wrote it (and
    has not signed it yet). An activity that already carries a proof is left as it is."""
    key = await _key_of(node, actor)
    if key is None or "proof" in activity:
        return activity
    embedded = activity.get("object")
    if (
        isinstance(embedded, dict)
        and embedded.get("attributedTo") == actor.actor_id
        and "proof" not in embedded
    ):
        activity = {**activity, "object": _sign_as(actor, key, embedded)}
    return _sign_as(actor, key, activity)


async def signed_object(node: Node, actor: LocalActor, document: Document) -> Document:
    """An object we serve at its URL, signed by its author, so whoever fetched it can pass it
    on and others can trust it without asking us again."""
    key = await _key_of(node, actor)
    if key is None or document.get("attributedTo") != actor.actor_id:
        return document
    return _sign_as(actor, key, document)


# --- incoming proofs ---------------------------------------------------------------------------


class KeyUnavailable(proofs.ProofError):
    """The author's key could not be had: its server does not answer and none is cached."""


async def _remote_keys(node: Node, actor_id: str) -> dict[str, str]:
    """The actor's assertion keys: from the cache while fresh; otherwise from its server, or
    the cached ones when its server does not answer (a proof must outlive its origin's
    downtime, which is what proofs are for)."""
    row = await node.store.remote_actor(actor_id)
    known = row is not None and row.assertion_keys is not None
    if known and row is not None and utcnow() - row.fetched_at < remote.ACTOR_MAX_AGE:
        return dict(json.loads(row.assertion_keys or "{}"))
    try:
        row = await remote.refresh_actor(node, actor_id)
    except remote.RemoteError as exc:
        if not known or row is None:
            raise KeyUnavailable(f"its author's key is unavailable: {exc.reason}") from exc
    return dict(json.loads(row.assertion_keys or "{}"))


async def _local_keys(node: Node, actor_id: str) -> dict[str, str]:
    """Our own actor's key (our objects come back to us, announced by linked nodes)."""
    name = actor_id.rsplit("/", 1)[-1]
    row = await node.store.local_actor(name)
    if row is None or row.ed25519_public is None:
        return {}
    actor = local_actor(node.settings, row)
    if actor.actor_id != actor_id:
        return {}
    return {actor.actor_id + ED25519_FRAGMENT: row.ed25519_public}


async def verify_by(node: Node, document: Document, controller: str) -> None:
    """Check the document's eddsa-jcs-2022 proof and that `controller` (the object's author,
    or the activity's actor) made it; raises ProofError with a reason to log."""

    async def key_of(method: str) -> Ed25519PublicKey:
        actor_id = method.split("#", 1)[0]
        if actor_id != controller:
            raise proofs.ProofError("the proof is not by the object's author")
        local = actor_id.startswith(node.settings.url + "/")
        keys = await (_local_keys(node, actor_id) if local else _remote_keys(node, actor_id))
        if method not in keys:
            raise proofs.ProofError("the proof's key is not in its author's assertionMethod")
        return proofs.public_key_from_multikey(keys[method])

    await proofs.verify(document, key_of)


def author_of(document: Document) -> str | None:
    return first_id(document.get("attributedTo"))


async def incoming_problem(node: Node, activity: Document, actor_id: str) -> str | None:
    """Why an activity that arrived signed by `actor_id` must be refused for its proofs, or
    None: its own proof, when present, must be the actor's; an embedded object's proof
    (not an Announce's: node/network/sharing.py decides on those) must be its author's."""
    checks: list[tuple[str, Document, str]] = []
    if proofs.supported(activity):
        checks.append(("activity", activity, actor_id))
    embedded = activity.get("object")
    # An embedded activity (the Follow an Accept answers) is a reference by id, not relied on.
    if isinstance(embedded, dict) and activity.get("type") != "Announce":
        author = author_of(embedded)
        if author and proofs.supported(embedded):
            checks.append(("object", embedded, author))
    for what, document, controller in checks:
        try:
            await verify_by(node, document, controller)
        except KeyUnavailable as exc:
            # The HTTP signature already vouched for the sender; an unreachable key is no
            # evidence of tampering (a deleted account signing its own Delete, say).
            logger.info("proof on %s not checked: %s", activity.get("id"), exc.reason)
        except proofs.ProofError as exc:
            return f"the {what}'s proof is refused: {exc.reason}"
    return None
