"""Members' replies to any post or comment, here or on another server: a Note, stored approved and
delivered to the member's followers and the author replied to."""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable

from activitypub import objects
from activitypub.vocab import PUBLIC, Document, as_list, id_of
from node.context import Node
from node.federation import delivery, remote
from node.federation.actors import LocalActor, local_actor_by_row_id, moved_notice
from node.federation.following import FollowingError
from node.notifications import events
from node.storage import NoteRow, utcnow

from . import html, mentions

# Called with the new note's id inside the transaction that stores it: offers use it to record a
# reply to an offer as a response (node/offers/exchanges.py, record_reply), which content cannot
# import without a cycle between the two packages.
OnStored = Callable[[Node, str], Awaitable[object]]


async def _target(node: Node, object_id: str) -> tuple[Document, int | None]:
    """The object replied to, and the local post its thread belongs to (if any)."""
    prefix = f"{node.settings.url}/posts/"
    if object_id.startswith(prefix):
        post = await node.store.post(object_id.removeprefix(prefix))
        if post is None or post.deleted_at is not None:
            raise FollowingError(f"no post {object_id} here")
        author = await local_actor_by_row_id(node.store, node.settings, post.author_id)
        author_id = author.actor_id if author else None
        return {"id": object_id, "attributedTo": author_id}, post.id
    known = await node.store.note(object_id)
    if known is not None:
        return {"id": object_id, "attributedTo": known.author_id}, known.post_id
    try:
        return await remote.fetch_signed(node, object_id), None
    except remote.RemoteError as exc:
        raise FollowingError(f"cannot fetch {object_id}: {exc.reason}") from exc


async def reply(
    node: Node, member: LocalActor, object_id: str, body: str, *, on_stored: OnStored | None = None
) -> NoteRow:
    if moved_notice(member.row):
        raise FollowingError(str(moved_notice(member.row)))
    if not body.strip():
        raise FollowingError("A reply needs some text.")
    target, post_id = await _target(node, object_id)
    authors = as_list(target.get("attributedTo"))
    target_author = id_of(authors[0]) if authors else None
    note_id = f"{node.settings.url}/notes/{secrets.token_urlsafe(9)}"
    cc = [f"{member.actor_id}/followers"] + ([target_author] if target_author else [])
    now = utcnow()
    links = await mentions.links_for(node, body)
    tags = [objects.mention(target_author, target_author)] if target_author else []
    tags += [
        objects.mention(m.actor_id, m.handle)
        for m in links.mentioned.values()
        if m.actor_id != target_author
    ]
    document = objects.note(
        objects.NoteInfo(
            object_id=note_id,
            attributed_to=member.actor_id,
            content=html.render_markdown(body, links),
            published=now,
            addressing=objects.Addressing(to=[PUBLIC], cc=cc),
            in_reply_to=object_id,
            tags=tags,
        )
    )
    row = NoteRow(
        object_id=note_id,
        post_id=post_id,
        in_reply_to=object_id,
        author_id=member.actor_id,
        local_author_id=member.row.id,
        host=node.settings.host,
        url=note_id,
        content_html=document["content"],
        summary=None,
        sensitive=False,
        public=True,
        status="approved",  # our own members' replies need no moderation
        published_at=now,
        created_at=now,
        document=json.dumps(document),
        mentions=json.dumps(
            await mentions.local_members(node, [m.actor_id for m in links.mentioned.values()])
        ),
    )
    inboxes = await node.store.follower_inboxes([member.row.id])
    if target_author and not target_author.startswith(node.settings.url + "/"):
        try:
            author = await remote.get_actor(node, target_author)
        except remote.RemoteError as exc:
            raise FollowingError(f"cannot reach {target_author}: {exc.reason}") from exc
        inboxes.append(author.shared_inbox_url or author.inbox_url)
    async with node.store.transaction():
        await node.store.insert_note(row)
        if on_stored is not None:
            await on_stored(node, note_id)
        await delivery.enqueue(
            node.store,
            activity=objects.create(f"{note_id}/activity", document),
            sender=member.username,
            inbox_urls=inboxes,
        )
        stored = await node.store.note(note_id)
        assert stored is not None
        await events.comment_public(node.store, stored)  # replied to, mentioned: told
    return stored
