"""Recording notifications as things happen. Each names its recipient (a local member's row),
its kind, who did it (an actor id) and a path on this site to the thing itself; the same kind
about the same thing is kept once per member, so an activity delivered twice tells once.

Kinds: `reply` (to a member's post or comment, once public), `response` (to their offer or
request), `match` (their response was chosen), `agreement` (a remote author accepted their
response), `hours` (an exchange they took part in was completed), `mention` (in a post, or in
a comment once public), `follower`; for moderators `comment_waiting` and `report`; for admins
`link_request`."""

from __future__ import annotations

import json
from collections.abc import Iterable

from node.storage import NoteRow, PostRow, Store

KINDS = (
    "reply",
    "response",
    "match",
    "agreement",
    "hours",
    "mention",
    "follower",
    "comment_waiting",
    "report",
    "link_request",
)


async def _comment_path(store: Store, note: NoteRow) -> str | None:
    post = await store.post_by_id(note.post_id) if note.post_id is not None else None
    if post is None or note.id is None:
        return None
    return f"/posts/{post.public_id}#comment-{note.id}"


async def comment_public(store: Store, note: NoteRow) -> None:
    """A public, approved reply: its post's author and the author of the comment it answers
    (when a member) are told, unless they wrote it or were told of it already (a response)."""
    path = await _comment_path(store, note)
    post = await store.post_by_id(note.post_id) if note.post_id is not None else None
    if path is None or post is None or not note.public or note.status != "approved":
        return
    recipients = {post.author_id}
    parent = await store.note(note.in_reply_to) if note.in_reply_to else None
    if parent is not None and parent.local_author_id is not None:
        recipients.add(parent.local_author_id)
    recipients.discard(note.local_author_id or 0)
    for member_id in sorted(recipients):
        if not await store.has_notification(member_id, path):
            await store.add_notification(member_id, "reply", path, actor_id=note.author_id)
    mentioned_ids = [n for n in json.loads(note.mentions or "[]") if isinstance(n, int)]
    await mentioned(store, mentioned_ids, path, note.author_id, author=note.local_author_id)


async def mentioned(
    store: Store, member_ids: Iterable[int], path: str, actor_id: str, *, author: int | None
) -> None:
    """Members @-mentioned in what `path` shows (a post, a public comment, a post on another
    server), each told once: not its author, nor one told of it already (as a reply)."""
    for member_id in sorted(set(member_ids)):
        if member_id != author and not await store.has_notification(member_id, path):
            await store.add_notification(member_id, "mention", path, actor_id=actor_id)


async def response(store: Store, post: PostRow, note: NoteRow) -> None:
    """Someone answered a member's offer or request (a reply or an offer of an agreement)."""
    path = await _comment_path(store, note)
    if path is not None and note.local_author_id != post.author_id:
        await store.add_notification(
            post.author_id, "response", path, actor_id=note.author_id, text=post.title
        )


async def comment_waiting(store: Store, note: NoteRow) -> None:
    path = await _comment_path(store, note)
    if path is None or note.id is None:
        return
    for member_id in await store.moderator_ids():
        await store.add_notification(
            member_id, "comment_waiting", f"/moderation#queue-{note.id}", actor_id=note.author_id
        )


async def report(store: Store, report_id: int, actor_id: str) -> None:
    for member_id in await store.moderator_ids():
        path = f"/moderation/reports#report-{report_id}"
        await store.add_notification(member_id, "report", path, actor_id=actor_id)


async def link_request(store: Store, link_id: int, actor_id: str) -> None:
    """Another node's Group asks to link: the admins decide (/moderation/links)."""
    for member_id in await store.moderator_ids(admins_only=True):
        path = f"/moderation/links#link-{link_id}"
        await store.add_notification(member_id, "link_request", path, actor_id=actor_id)


async def follower(store: Store, member_id: int, actor_id: str) -> None:
    """A new follower; the link goes to them (their profile on their own server)."""
    await store.add_notification(member_id, "follower", actor_id, actor_id=actor_id)


async def about_agreement(
    store: Store, member_id: int, kind: str, path: str, actor_id: str, title: str
) -> None:
    """`match`, `agreement` or `hours`: a step of an exchange the member takes part in."""
    await store.add_notification(member_id, kind, path, actor_id=actor_id, text=title)
