"""What linked nodes share (FEP-1b12 and the relay pattern, ../shared/PROTOCOL.md).

A linked Group's `Announce(object id)` is checked at the object's origin: we fetch it there and
keep it only if the copy is the object announced, public, a post (not a reply), and written by
an author on its own host. Our Group passes an object on to its own followers only when it
came from the Group of the node it originates on: one hop, so no graph of links can loop or
storm. The announce id is derived from the object, so it is queued once per inbox, ever.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime

from activitypub import objects, webfinger
from activitypub.vocab import Document, first_id, id_of, is_public, published_at, type_of

from . import delivery, html, moderation, remote
from .actors import LocalActor
from .context import Node
from .links import our_group
from .storage import LinkRow, utcnow

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
    return document


async def on_announce(node: Node, activity: Document, actor_id: str) -> tuple[str, str]:
    link = await node.store.link_of_actor(actor_id)
    if link is None or link.state != "linked":
        return "dropped", f"Announce from {webfinger.host_of(actor_id)}, which is not a linked node"
    return await receive_shared(node, link, activity.get("object"))


async def receive_shared(node: Node, link: LinkRow, announced: object) -> tuple[str, str]:
    """Verify an object a linked Group announced at its origin, keep it, pass it on once."""
    object_id = id_of(announced)
    if not object_id:
        return "dropped", "announce without an object"
    await node.store.save_link(link.actor_id, last_heard_at=utcnow())
    if await node.store.linked_post(object_id) is not None:
        return "duplicate", "already received through a link"
    try:
        copy = await remote.fetch_signed(node, object_id)
    except remote.RemoteError as exc:
        return "dropped", f"announced object's origin does not answer: {exc.reason}"
    problem = _check_copy(announced, copy, object_id)
    if problem is not None:
        return "dropped", problem
    author = author_of(copy) or ""
    if await moderation.is_blocked(node.store, author, object_id):
        return "dropped", "announced object's author or host is blocked here"
    passed_on = remote.same_origin(link.actor_id, object_id)
    async with node.store.transaction():
        await _keep(node, link, copy, author, announced=passed_on)
        if passed_on:
            await _pass_on(node, object_id)
    origin = webfinger.host_of(object_id)
    return "accepted", f"shared by {link.host} from {origin}" + (
        " and announced" if passed_on else ""
    )


async def _keep(node: Node, link: LinkRow, copy: Document, author: str, *, announced: bool) -> None:
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
    )


async def _pass_on(node: Node, object_id: str) -> None:
    """Our Group announces it to its followers, except those on the origin's own server."""
    group = await our_group(node)
    inboxes = [
        follower.shared_inbox_url or follower.inbox_url
        for follower in await node.store.followers_of(group.row.id)
        if not remote.same_origin(follower.actor_id, object_id)
    ]
    addressing = objects.public_addressing(f"{group.actor_id}/followers")
    boost = objects.announce(announce_id(group, object_id), group.actor_id, object_id, addressing)
    boost["published"] = objects.isoformat(utcnow())
    await delivery.enqueue(node.store, activity=boost, sender=group.username, inbox_urls=inboxes)


# --- the origin's Update and Delete -----------------------------------------------------------


async def on_origin_update(node: Node, document: Document, actor_id: str) -> tuple[str, str] | None:
    """An Update from the author of a post kept from a link; None when it is not one."""
    kept = await node.store.linked_post(str(document.get("id")))
    if kept is None or kept.origin_actor_id != actor_id:
        return None
    if _check_copy(document, document, kept.object_id) is not None:
        return "dropped", "update of a linked post that is no longer a public post"
    await node.store.upsert_linked_post(
        object_id=kept.object_id, document=json.dumps(_sanitised(document))
    )
    return "accepted", "linked post updated from its origin"


async def on_origin_delete(node: Node, object_id: str, actor_id: str) -> tuple[str, str] | None:
    kept = await node.store.linked_post(object_id)
    if kept is None or kept.origin_actor_id != actor_id:
        return None
    await node.store.delete_linked_post(object_id)
    return "accepted", "linked post deleted at its origin"
