"""Posting to the community from anywhere (FEP-1b12 groups): an account elsewhere that follows
our Group addresses a post to it (in `to`, `cc` or `audience`, or with a Mention of the Group),
and the Group `Announce`s it to its followers.

Moderated as comments are (node/moderation/rules.py): with CONODE_COMMENT_POLICY=hold_new a
post from an author no moderator has approved yet waits (`conode group-posts list`) until
`conode group-posts approve ID`, which also trusts the author, as approving a comment does.
Only public, top-level posts (a reply is a comment, not a post to the group) from followers of
the Group are taken; public replies to an approved one, from the Group's followers or addressed
to the Group, are kept to show under it on /elsewhere (node/web/elsewhere.py). A blocked
author's or server's posts are never announced, even once held.
The Announce names the object by id (Mastodon cannot read `Announce(Create)`), as for our own
posts, and skips the author's own server, which has the post already.
"""

from __future__ import annotations

import json

from activitypub import objects
from activitypub.vocab import (
    Document,
    as_list,
    first_id,
    id_of,
    is_public,
    published_at,
    type_of,
)
from node.content import html
from node.context import Node
from node.federation import delivery, remote
from node.federation.actors import LocalActor
from node.moderation import rules as moderation
from node.storage import GroupPostRow, utcnow

from .links import LinkError, our_group
from .sharing import announce_id

Result = tuple[str, str]  # (outcome, reason) for the inbound log
STATUSES = ("pending", "approved", "rejected", "deleted")


class GroupPostError(moderation.ModerationError):
    """A moderator's action on a post to the group that cannot be done; says why."""


def addresses(note: Document, group_id: str) -> bool:
    """Whether the post is addressed to the group: a recipient, its audience or a Mention."""
    named = as_list(note.get("to")) + as_list(note.get("cc")) + as_list(note.get("audience"))
    if group_id in {id_of(item) for item in named}:
        return True
    return any(
        isinstance(tag, dict)
        and tag.get("type") == "Mention"
        and id_of(tag.get("href")) == group_id
        for tag in as_list(note.get("tag"))
    )


def _kept(note: Document) -> Document:
    document = dict(note)
    document["content"] = html.sanitize_comment(str(note.get("content") or ""))
    return document


async def on_create(node: Node, note: Document, actor_id: str) -> Result | None:
    """A Create of a post addressed to our Group (its author checked by the caller); None
    when it is not one."""
    try:
        group = await our_group(node)
    except LinkError:  # no Group yet (`conode init` makes it): nothing is addressed to it
        return None
    parent = first_id(note.get("inReplyTo"))
    if parent:
        return await _on_reply(node, group, note, actor_id, parent)
    if not addresses(note, group.actor_id):
        return None
    if not is_public(note):
        return "dropped", "post to the group is not public: the group shares only public posts"
    if not await node.store.is_follower(group.row.id, actor_id):
        return "dropped", "post to the group from an account that does not follow it"
    status = await moderation.status_for_new_comment(node.store, node.settings, actor_id)
    row = await node.store.add_group_post(
        object_id=str(note["id"]),
        author_id=actor_id,
        host=remote.host_of(actor_id),
        document=json.dumps(_kept(note)),
        status=status,
        published_at=published_at(note) or utcnow(),
    )
    if row is None:
        return "duplicate", "post to the group already stored"
    if status == "pending":
        return "held", "post to the group held for moderation"
    await _announce(node, group, row)
    return "accepted", f"post to the group announced ({type_of(note)})"


async def _on_reply(
    node: Node, group: LocalActor, note: Document, actor_id: str, parent: str
) -> Result | None:
    """A reply to an approved post to the group is kept, to show under it; None when it
    replies to something else (then it may be a comment)."""
    row = await node.store.group_post(parent)
    if row is None or row.status != "approved":
        return None
    if not is_public(note):
        return "dropped", "reply to a post to the group is not public"
    follows = await node.store.is_follower(group.row.id, actor_id)
    if not follows and not addresses(note, group.actor_id):
        return (
            "dropped",
            "reply to a post to the group from an account that neither follows nor addresses it",
        )
    kept = await node.store.add_group_post_reply(
        group_post_id=row.id,
        object_id=str(note["id"]),
        author_id=actor_id,
        host=remote.host_of(actor_id),
        document=json.dumps(_kept(note)),
        published_at=published_at(note) or utcnow(),
    )
    if not kept:
        return "duplicate", "reply to a post to the group already stored"
    return "accepted", "reply to a post to the group kept"


async def _announce(node: Node, group: LocalActor, row: GroupPostRow) -> None:
    inboxes = [
        follower.shared_inbox_url or follower.inbox_url
        for follower in await node.store.followers_of(group.row.id)
        if not remote.same_origin(follower.actor_id, row.object_id)
    ]
    addressing = objects.public_addressing(f"{group.actor_id}/followers")
    boost = objects.announce(
        announce_id(group, row.object_id), group.actor_id, row.object_id, addressing
    )
    boost["published"] = objects.isoformat(utcnow())
    async with node.store.transaction():
        await delivery.enqueue(
            node.store, activity=boost, sender=group.username, inbox_urls=inboxes
        )
        await node.store.set_group_post(row.id, status="approved", announced_at=utcnow())


async def is_blocked(node: Node, row: GroupPostRow) -> bool:
    """Whether the post's author or server is blocked now: it is never announced then."""
    return await moderation.is_blocked_now(node.store, row.author_id, row.object_id)


async def approve(node: Node, post_id: int) -> GroupPostRow:
    """A moderator approves a held post: the Group announces it; its author is trusted."""
    row = await node.store.group_post_by_id(post_id)
    if row is None or row.status == "deleted":
        raise GroupPostError(f"no post {post_id} to the group: see `conode group-posts list`")
    if await is_blocked(node, row):
        raise GroupPostError(f"post {post_id}'s author or server is blocked: it is not announced")
    await node.store.approve_author(row.author_id)
    if row.announced_at is None:
        await _announce(node, await our_group(node), row)
    else:
        await node.store.set_group_post(row.id, status="approved")
    approved = await node.store.group_post_by_id(post_id)
    assert approved is not None
    return approved


async def reject(node: Node, post_id: int) -> GroupPostRow:
    row = await node.store.group_post_by_id(post_id)
    if row is None or row.status == "deleted":
        raise GroupPostError(f"no post {post_id} to the group: see `conode group-posts list`")
    await node.store.set_group_post(row.id, status="rejected")
    return row


async def on_deleted(node: Node, object_id: str, actor_id: str) -> Result | None:
    """Its author deleted a post to the group, or a reply to one: it is forgotten here."""
    if await node.store.delete_group_post_reply(object_id, actor_id):
        return "accepted", "reply to a post to the group deleted by its author"
    row = await node.store.group_post(object_id)
    if row is None or row.author_id != actor_id:
        return None
    await node.store.set_group_post(row.id, status="deleted", document="{}")
    return "accepted", "post to the group deleted by its author"


def entry(row: GroupPostRow) -> dict[str, object]:
    """One line of `conode group-posts list --json`."""
    document = json.loads(row.document or "{}")
    return {
        "id": row.id,
        "object": row.object_id,
        "author": row.author_id,
        "status": row.status,
        "announced": row.announced_at is not None,
        "content": html.plain_text(str(document.get("content") or ""), 200),
        "published": objects.isoformat(row.published_at),
    }
