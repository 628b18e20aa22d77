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


def remote_author(author_id: str, actor: RemoteActorRow | None) -> tuple[str, str, str | None]:
    """An author elsewhere as shown: their name, @name@server and profile link (never unsafe)."""
    path_name = author_id.rstrip("/").rsplit("/", 1)[-1].lstrip("@")
    username = actor.username if actor and actor.username else path_name
    # The authority with any non-default port, as in acct: addresses (not the row's host).
    handle = f"@{username}@{webfinger.host_of(author_id)}"
    name = actor.name if actor and actor.name else username
    profile = (actor.profile_url if actor else None) or author_id
    return name, handle, safe_url(profile) or safe_url(author_id)


def _remote_view(note: NoteRow, actor: RemoteActorRow | None) -> CommentView:
    view = CommentView(note, *remote_author(note.author_id, actor), False)
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


def thread_pages(links: list[tuple[int, str, str]], per_page: int) -> list[list[int]]:
    """The comments' row ids, given as (row id, object id, in reply to) oldest first, cut into
    pages of `per_page` top-level threads with every reply on its thread's page (as WordPress
    pages comments): a page never splits a conversation, and new threads go on the last page,
    so the earlier pages stay as they were."""
    parent_of = {object_id: parent for _, object_id, parent in links}
    root_page: dict[str, int] = {}
    pages: list[list[int]] = []
    roots = 0
    for row_id, object_id, _ in links:
        root = _root(object_id, parent_of)
        if root not in root_page:
            root_page[root] = roots // per_page
            roots += 1
            if root_page[root] == len(pages):
                pages.append([])
        pages[root_page[root]].append(row_id)
    return pages


def _root(object_id: str, parent_of: dict[str, str]) -> str:
    """The top-level comment of the thread this one is in (its own id when it is one)."""
    seen = {object_id}
    while (parent := parent_of.get(object_id)) is not None and parent in parent_of:
        if parent in seen:  # a loop of replies (forged ids): the thread starts here
            break
        seen.add(parent)
        object_id = parent
    return object_id
