"""Comments as people see them: who wrote each (`@name@server`, linked to their profile) and
how replies nest. Everything here comes from strangers, so every URL is checked to be http(s)
before it becomes a link, and names stay plain text (the templates escape them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from activitypub import webfinger
from node.context import Node
from node.storage import LocalActorRow, NoteRow, RemoteActorRow

from . import avatars

MAX_DEPTH = 6  # deeper replies are shown at this depth, so narrow screens stay readable


def safe_url(url: str | None) -> str | None:
    """The URL if it is a web address; never `javascript:`, `data:` or anything else."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.hostname else None


@dataclass
class CommentView:
    note: NoteRow
    author_name: str
    author_handle: str
    author_url: str | None
    local: bool
    replies: list[CommentView] = field(default_factory=list)
    avatar_url: str = ""  # on our origin (node/content/avatars.py)


async def comment_view(node: Node, note: NoteRow) -> CommentView:
    """How a comment's author is shown: their name and @name@server, linked to their profile."""
    return (await comment_views(node, [note]))[0]


async def comment_views(node: Node, notes: list[NoteRow]) -> list[CommentView]:
    """comment_view() for many notes, with two queries in all (no query per comment)."""
    local_ids = [n.local_author_id for n in notes if n.local_author_id is not None]
    remote_ids = [n.author_id for n in notes if n.local_author_id is None]
    local = await node.store.local_actors_by_row_id(local_ids) if local_ids else {}
    remote = await node.store.remote_actors_by_id(remote_ids) if remote_ids else {}
    views = []
    for note in notes:
        if note.local_author_id is not None:
            views.append(_local_view(node, note, local.get(note.local_author_id)))
        else:
            views.append(_remote_view(note, remote.get(note.author_id)))
    return views


def _local_view(node: Node, note: NoteRow, row: LocalActorRow | None) -> CommentView:
    username = row.username if row else "unknown"
    name = row.display_name if row else username
    handle = f"@{username}@{node.settings.host}"
    view = CommentView(note, name, handle, f"{node.settings.url}/@{username}", True)
    view.avatar_url = avatars.avatar_path(note.author_id, row)
    return view


def _remote_view(note: NoteRow, actor: RemoteActorRow | None) -> CommentView:
    path_name = note.author_id.rstrip("/").rsplit("/", 1)[-1].lstrip("@")
    username = actor.username if actor and actor.username else path_name
    # The authority with any non-default port, as in acct: addresses (not `note.host`).
    handle = f"@{username}@{webfinger.host_of(note.author_id)}"
    name = actor.name if actor and actor.name else username
    profile = (actor.profile_url if actor else None) or note.author_id
    view = CommentView(note, name, handle, safe_url(profile) or safe_url(note.author_id), False)
    view.avatar_url = avatars.avatar_path(note.author_id)
    return view


def thread(views: list[CommentView]) -> list[CommentView]:
    """Nest each comment under the comment it replies to (when that one is shown too)."""
    by_id = {view.note.object_id: view for view in views}
    depth: dict[str, int] = {}
    top: list[CommentView] = []
    for view in views:  # oldest first, so a parent is placed before its replies
        parent = by_id.get(view.note.in_reply_to)
        if parent is None or parent is view:
            depth[view.note.object_id] = 0
            top.append(view)
            continue
        while depth.get(parent.note.object_id, 0) >= MAX_DEPTH - 1:
            grand = by_id.get(parent.note.in_reply_to)
            if grand is None:
                break
            parent = grand
        depth[view.note.object_id] = depth.get(parent.note.object_id, 0) + 1
        parent.replies.append(view)
    return top
