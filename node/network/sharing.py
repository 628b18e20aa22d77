"""What linked nodes share (FEP-1b12 and the relay pattern; FEDERATION.md, "Linked nodes").

A linked Group's `Announce` is checked at the object's origin: we fetch it there and keep it
only if the copy is the object announced, public, a post (not a reply), and written by an
author on its own host. An embedded object whose author's FEP-8b32 proof verifies is taken
without the fetch (so a network keeps sharing while an origin is down), and kept as signed, to
be passed on embedded; an invalid proof falls back to the fetch, with its reason logged. Our
Group passes an object on to its own followers only when it came from the Group of the node it
originates on: one hop, so no graph of links can loop or storm. The announce id is derived
from the object, so it is queued once per inbox, ever.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime

from activitypub import objects, proofs, webfinger
from activitypub.vocab import Document, first_id, id_of, is_public, published_at, type_of
from node.content import html
from node.context import Node
from node.federation import delivery, integrity, remote
from node.federation.actors import LocalActor
from node.moderation import rules as moderation
from node.storage import LinkRow, utcnow

from .links import our_group

logger = logging.getLogger(__name__)

POST_TYPES = frozenset({"Article", "Note", "Page"})
OFFER_PURPOSES = ("offer", "request")  # FEP-0837 `purpose`


def announce_id(group: LocalActor, object_id: str) -> str:
    digest = hashlib.sha256(object_id.encode()).hexdigest()[:32]
    return f"{group.actor_id}/announces/{digest}"


def author_of(document: Document) -> str | None:
    return first_id(document.get("attributedTo"))


def published_of(document: Document) -> datetime:
    return published_at(document) or utcnow()


def _check_copy(announced: object, copy: Document, object_id: str) -> str | None:
    """Why the fetched copy may not be kept, or None."""
    if copy.get("id") != object_id:
        return "fetched copy has another id than the one announced"
    if type_of(copy) not in POST_TYPES:
        return f"announced object is a {type_of(copy)!r}, not a post"
    author = author_of(copy)
    if author is None or not remote.same_origin(author, object_id):
        return "fetched copy's author is not on the object's host"
    if isinstance(announced, dict):
        claimed = author_of(announced)
        if claimed is not None and claimed != author:
            return "fetched copy differs in author from what was announced"
    if copy.get("inReplyTo"):
        return "announced object is a reply, not a post"
    if not is_public(copy):
        return "announced object is not public"
    return None


def _sanitised(copy: Document) -> Document:
    document = dict(copy)
    document["content"] = html.sanitize_comment(str(copy.get("content") or ""))
    for name in ("name", "summary"):
        if name in copy:
            document[name] = html.plain_text(str(copy.get(name) or ""), 500)
    # Like Mastodon, keep a permalink only on the object's own host (and only http(s)).
    url = copy.get("url")
    safe = html.safe_url(url) if isinstance(url, str) else None
    object_host = webfinger.host_of(str(copy.get("id") or ""))
    if safe is None or webfinger.host_of(safe) != object_host:
        document.pop("url", None)
    return document


async def on_announce(node: Node, activity: Document, actor_id: str) -> tuple[str, str]:
    link = await node.store.link_of_actor(actor_id)
    if link is None or link.state != "linked":
        return "dropped", f"Announce from {webfinger.host_of(actor_id)}, which is not a linked node"
    inner = activity.get("object")
    if isinstance(inner, dict) and type_of(inner) in ("Update", "Delete"):
        return await refresh_from_origin(node, link, id_of(inner.get("object")) or "")
    return await receive_shared(node, link, inner)


async def receive_shared(node: Node, link: LinkRow, announced: object) -> tuple[str, str]:
    """Take an object a linked Group announced, on the strength of its author's proof when it
    carries a valid one, else as fetched from its origin; keep it, pass it on once."""
    object_id = id_of(announced)
    if not object_id:
        return "dropped", "announce without an object"
    await node.store.save_link(link.actor_id, last_heard_at=utcnow())
    if await node.store.linked_post(object_id) is not None:
        return "duplicate", "already received through a link"
    proven, refusal = await _proven(node, announced, object_id)
    if proven is not None:
        copy, how = proven, "from its author's proof"
    else:
        try:
            copy = await remote.fetch_signed(node, object_id)
        except remote.RemoteError as exc:
            why = f"{refusal}; " if refusal else ""
            return "dropped", f"{why}announced object's origin does not answer: {exc.reason}"
        how = "fetched from its origin" + (f" ({refusal})" if refusal else "")
    problem = _check_copy(announced, copy, object_id)
    if problem is not None:
        return "dropped", problem
    author = author_of(copy) or ""
    if await moderation.is_blocked_now(node.store, author, object_id):
        return "dropped", "announced object's author or host is blocked here"
    signed = proven or await _signed_copy(node, copy)
    passed_on = remote.same_origin(link.actor_id, object_id)
    async with node.store.transaction():
        await _keep(node, link, copy, author, announced=passed_on, signed=signed)
        if passed_on:
            await _pass_on(node, object_id, signed=signed)
    origin = webfinger.host_of(object_id)
    return "accepted", f"shared by {link.host} from {origin}, {how}" + (
        " and announced" if passed_on else ""
    )


async def _proven(node: Node, announced: object, object_id: str) -> tuple[Document | None, str]:
    """The embedded object when its author's proof (FEP-8b32) vouches for it, else None and why
    not ("" when it carries no proof): a linked node then need not be trusted with its content,
    nor its origin be up."""
    if not isinstance(announced, dict) or not proofs.supported(announced):
        return None, ""
    author = author_of(announced)
    if author is None or not remote.same_origin(author, object_id):
        return None, "proof refused: the object's author is not on its host"
    try:
        await integrity.verify_by(node, announced, author)
    except proofs.ProofError as exc:
        logger.info("proof on %s refused: %s", object_id, exc.reason)
        return None, f"proof refused: {exc.reason}"
    return announced, ""


def _json_or_none(document: Document | None) -> str | None:
    return json.dumps(document) if document is not None else None


async def _signed_copy(node: Node, copy: Document) -> Document | None:
    """The fetched copy, when its author's proof holds: it can be passed on as it is."""
    return (await _proven(node, copy, str(copy.get("id") or "")))[0]


async def _keep(
    node: Node,
    link: LinkRow,
    copy: Document,
    author: str,
    *,
    announced: bool,
    signed: Document | None,
) -> None:
    purpose = copy.get("purpose")
    await node.store.upsert_linked_post(
        object_id=str(copy["id"]),
        origin_actor_id=author,
        origin_host=webfinger.host_of(str(copy["id"])),
        via_actor_id=link.actor_id,
        type=str(type_of(copy)),
        kind=purpose if purpose in OFFER_PURPOSES else "post",
        document=json.dumps(_sanitised(copy)),
        announced=announced,
        published_at=published_of(copy),
        signed_document=_json_or_none(signed),
    )


def group_announce(group: LocalActor, object_id: str, signed: Document | None) -> Document:
    """Our Group's Announce of a linked object: embedded as its author signed it, when it was,
    so the next node needs neither us nor the origin to trust it (FEP-8b32); else its id."""
    addressing = objects.public_addressing(f"{group.actor_id}/followers")
    boost = objects.announce(announce_id(group, object_id), group.actor_id, object_id, addressing)
    if signed is not None:
        boost["object"] = signed
    return boost


async def _pass_on(
    node: Node,
    object_id: str,
    activity: Document | None = None,
    *,
    signed: Document | None = None,
) -> None:
    """Our Group announces the object (or the origin's Update or Delete of it, embedded, as
    FEP-1b12 groups do) to its followers, except those on the origin's own server. Linked
    nodes get a signed object embedded (they may take it from its proof); other followers get
    its id, as they always have (Mastodon fetches what it boosts from its origin anyway)."""
    group = await our_group(node)
    followers = [
        follower
        for follower in await node.store.followers_of(group.row.id)
        if not remote.same_origin(follower.actor_id, object_id)
    ]
    linked = {link.actor_id for link in await node.store.links("linked")}
    audiences = [(True, signed), (False, None)] if signed is not None else [(None, None)]
    for to_nodes, embedded in audiences:
        inboxes = [
            follower.shared_inbox_url or follower.inbox_url
            for follower in followers
            if to_nodes is None or (follower.actor_id in linked) == to_nodes
        ]
        boost = group_announce(group, object_id, embedded)
        if activity is not None:
            boost["id"] = announce_id(group, str(activity["id"]))
            boost["object"] = {k: v for k, v in activity.items() if k not in ("@context", "proof")}
        boost["published"] = objects.isoformat(utcnow())
        # A shared inbox reached both ways is queued once, with the embedded copy (first).
        await delivery.enqueue(
            node.store, activity=boost, sender=group.username, inbox_urls=inboxes
        )


# --- the origin's Update and Delete -----------------------------------------------------------


async def on_origin_update(node: Node, activity: Document, actor_id: str) -> tuple[str, str] | None:
    """An Update from the author of a post kept from a link; None when it is not one.
    What we passed on, we pass its Update on too, so nodes one hop away follow it."""
    document = activity.get("object")
    kept = await node.store.linked_post(id_of(document) or "")
    if not isinstance(document, dict) or kept is None or kept.origin_actor_id != actor_id:
        return None
    if _check_copy(document, document, kept.object_id) is not None:
        return "dropped", "update of a linked post that is no longer a public post"
    signed = await _signed_copy(node, document)
    async with node.store.transaction():
        await node.store.upsert_linked_post(
            object_id=kept.object_id,
            document=json.dumps(_sanitised(document)),
            signed_document=_json_or_none(signed),
        )
        if kept.announced:
            await _pass_on(node, kept.object_id, activity)
    return "accepted", "linked post updated from its origin"


async def on_origin_delete(node: Node, activity: Document, actor_id: str) -> tuple[str, str] | None:
    kept = await node.store.linked_post(id_of(activity.get("object")) or "")
    if kept is None or kept.origin_actor_id != actor_id:
        return None
    async with node.store.transaction():
        await node.store.delete_linked_post(kept.object_id)
        if kept.announced:
            await _pass_on(node, kept.object_id, activity)
    return "accepted", "linked post deleted at its origin"


def _is_gone(error: remote.RemoteError) -> bool:
    return error.reason.endswith(("http 404", "http 410"))


async def refresh_from_origin(node: Node, link: LinkRow, object_id: str) -> tuple[str, str]:
    """A linked Group passed on an Update or Delete: what the origin serves now decides (the
    embedded copy is the linked node's word, not the author's)."""
    kept = await node.store.linked_post(object_id)
    if kept is None or kept.deleted_at is not None:
        return "dropped", "update or delete of nothing we keep from links"
    try:
        copy = await remote.fetch_signed(node, object_id)
    except remote.RemoteError as exc:
        if not _is_gone(exc):
            return "dropped", f"linked post's origin does not answer: {exc.reason}"
        await node.store.delete_linked_post(object_id)
        return "accepted", f"linked post gone at its origin (via {link.host})"
    if _check_copy(copy, copy, object_id) is not None or author_of(copy) != kept.origin_actor_id:
        return "dropped", "linked post at its origin is no longer the post we keep"
    signed = _json_or_none(await _signed_copy(node, copy))
    await node.store.upsert_linked_post(
        object_id=object_id, document=json.dumps(_sanitised(copy)), signed_document=signed
    )
    return "accepted", f"linked post refreshed from its origin (via {link.host})"
