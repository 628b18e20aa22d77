"""Every list the site shows, a page at a time (node/storage/keyset.py): posts (the home page,
a profile, a tag), the offers board, the network feed, members, the comment queue, the
activity and moderation logs, and a post's comments by thread."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .connection import StoreBase
from .keyset import Page, Window, by_id, by_moment, paged, windowed
from .links import LinkedPostRow
from .rows import (
    LocalActorRow,
    NoteRow,
    OfferRow,
    PostRow,
    _aware,
    _from_row,
    _labelled,
    _local_actor,
    _note,
    _post,
    _post_and_offer,
)
from .schema import (
    activity_log,
    linked_posts,
    local_actors,
    moderation_actions,
    notes,
    offers,
    posts,
)

OPEN_STATES = ("open",)  # taken, fulfilled, withdrawn and expired are no longer open


def _tagged(tag: str) -> sa.ColumnElement[bool]:
    # Tags are stored as a JSON list of names; match the quoted name, case-insensitively.
    return sa.func.lower(posts.c.hashtags).like(f'%"{tag.lower()}"%')


def log_query(*, direction: str | None, host: str | None, outcome: str | None) -> sa.Select[Any]:
    """The activity log as filtered (not ordered)."""
    query = sa.select(activity_log)
    if direction:
        query = query.where(activity_log.c.direction == direction)
    if host:
        query = query.where(activity_log.c.host == host)
    if outcome:
        query = query.where(activity_log.c.outcome == outcome)
    return query


def board_query(*, kind: str | None, category: str | None, state: str | None) -> sa.Select[Any]:
    """Offers and requests with their posts, as the board filters them (not ordered)."""
    o, p = offers, posts
    query = (
        sa.select(*_labelled(p, "post_"), *_labelled(o, "offer_"))
        .join(o, o.c.post_id == p.c.id)
        .where(p.c.deleted_at.is_(None))
    )
    if kind is not None:
        query = query.where(p.c.kind == kind)
    if category is not None:
        query = query.where(sa.func.lower(o.c.category) == category)
    if state == "open":
        query = query.where(o.c.status.in_(OPEN_STATES))
    elif state == "closed":
        query = query.where(o.c.status.not_in(OPEN_STATES))
    return query


class ListingQueries(StoreBase):
    async def posts_page(
        self,
        window: Window,
        *,
        kinds: tuple[str, ...] | None = None,
        author_id: int | None = None,
        tag: str | None = None,
        between: tuple[datetime, datetime] | None = None,
    ) -> Page[PostRow]:
        """Posts not deleted, newest first: of these kinds, by this author, with this tag,
        published from `between[0]` up to (not including) `between[1]`."""
        query = sa.select(posts).where(posts.c.deleted_at.is_(None))
        if between is not None:
            query = query.where(
                posts.c.published_at >= between[0], posts.c.published_at < between[1]
            )
        if kinds is not None:
            query = query.where(posts.c.kind.in_(kinds))
        if author_id is not None:
            query = query.where(posts.c.author_id == author_id)
        if tag is not None:
            query = query.where(_tagged(tag))
        query = windowed(query, window, id_column=posts.c.id, moment_column=posts.c.published_at)
        rows = [_post(row) for row in await self._db.fetch_all(query)]
        return paged(rows, window, lambda post: by_moment(post.published_at, post.id))

    async def first_published(self, kinds: tuple[str, ...]) -> datetime | None:
        """When the oldest post of these kinds still shown was published (the archive's start)."""
        query = sa.select(sa.func.min(posts.c.published_at)).where(
            posts.c.deleted_at.is_(None), posts.c.kind.in_(kinds)
        )
        found = await self._db.fetch_val(query)
        if isinstance(found, str):  # SQLite hands an aggregate's datetime back as text
            found = datetime.fromisoformat(found)
        return _aware(found) if found is not None else None

    async def offers_page(
        self, window: Window, *, kind: str | None, category: str | None, state: str | None
    ) -> Page[tuple[PostRow, OfferRow]]:
        """The offers board, newest first; `state` is "open", "closed" or None (all)."""
        query = board_query(kind=kind, category=category, state=state)
        query = windowed(query, window, id_column=posts.c.id, moment_column=posts.c.published_at)
        rows = [_post_and_offer(row) for row in await self._db.fetch_all(query)]
        return paged(rows, window, lambda pair: by_moment(pair[0].published_at, pair[0].id))

    async def linked_posts_page(
        self, window: Window, *, kinds: tuple[str, ...] | None = None
    ) -> Page[LinkedPostRow]:
        """What came through links, newest first."""
        lp = linked_posts
        query = sa.select(lp).where(lp.c.deleted_at.is_(None))
        if kinds is not None:
            query = query.where(lp.c.kind.in_(kinds))
        query = windowed(query, window, id_column=lp.c.id, moment_column=lp.c.published_at)
        found = await self._db.fetch_all(query)
        rows = [_from_row(LinkedPostRow, row, booleans=("announced",)) for row in found]
        return paged(rows, window, lambda row: by_moment(row.published_at, row.id))

    async def count_linked_posts(self) -> int:
        lp = linked_posts
        query = sa.select(sa.func.count()).select_from(lp).where(lp.c.deleted_at.is_(None))
        return int(await self._db.fetch_val(query) or 0)

    async def members_page(self, window: Window) -> Page[LocalActorRow]:
        """People not deleted, in the order they joined."""
        la = local_actors
        query = sa.select(la).where(la.c.kind == "Person", la.c.deleted_at.is_(None))
        query = windowed(query, window, id_column=la.c.id, descending=False)
        rows = [_local_actor(row) for row in await self._db.fetch_all(query)]
        return paged(rows, window, lambda row: by_id(row.id))

    async def public_members_page(self, window: Window) -> Page[LocalActorRow]:
        """People shown on the public members list: neither suspended nor deleted, in the
        order they joined."""
        la = local_actors
        query = sa.select(la).where(
            la.c.kind == "Person", la.c.deleted_at.is_(None), la.c.suspended_at.is_(None)
        )
        query = windowed(query, window, id_column=la.c.id, descending=False)
        rows = [_local_actor(row) for row in await self._db.fetch_all(query)]
        return paged(rows, window, lambda row: by_id(row.id))

    async def comments_page(self, window: Window, *, status: str | None) -> Page[NoteRow]:
        """Comments on our posts with this status (any when None), oldest first."""
        query = sa.select(notes).where(notes.c.post_id.is_not(None))
        if status is not None:
            query = query.where(notes.c.status == status)
        query = windowed(
            query, window, id_column=notes.c.id, moment_column=notes.c.created_at, descending=False
        )
        rows = [_note(row) for row in await self._db.fetch_all(query)]
        return paged(rows, window, lambda note: by_moment(note.created_at, note.id))

    async def log_page(
        self, window: Window, *, direction: str | None, host: str | None, outcome: str | None
    ) -> Page[dict[str, Any]]:
        """The activity log, newest first."""
        query = log_query(direction=direction, host=host, outcome=outcome)
        query = windowed(query, window, id_column=activity_log.c.id)
        return self._dated_page(await self._db.fetch_all(query), window)

    async def moderation_page(self, window: Window) -> Page[dict[str, Any]]:
        """Moderation actions with who took them, newest first."""
        a = moderation_actions
        query = sa.select(a, local_actors.c.username, local_actors.c.kind).join(
            local_actors, local_actors.c.id == a.c.moderator_id
        )
        query = windowed(query, window, id_column=a.c.id)
        return self._dated_page(await self._db.fetch_all(query), window)

    def _dated_page(self, found: Any, window: Window) -> Page[dict[str, Any]]:
        rows = [dict(row._mapping) for row in found]
        for row in rows:
            row["created_at"] = _aware(row["created_at"])
        return paged(rows, window, lambda row: by_id(row["id"]))

    # --- a post's comments, by top-level thread ---

    async def comment_links(self, post_id: int) -> list[tuple[int, str, str]]:
        """(row id, object id, in reply to) of every comment shown on the post, oldest first:
        enough to cut the threads into pages without reading the comments themselves."""
        query = (
            sa.select(notes.c.id, notes.c.object_id, notes.c.in_reply_to)
            .where(
                notes.c.post_id == post_id,
                notes.c.status == "approved",
                notes.c.public == sa.true(),
            )
            .order_by(notes.c.published_at, notes.c.id)
        )
        return [(int(r[0]), str(r[1]), str(r[2])) for r in await self._db.fetch_all(query)]

    async def notes_by_ids(self, ids: list[int]) -> list[NoteRow]:
        """These notes, oldest first."""
        if not ids:
            return []
        query = (
            sa.select(notes).where(notes.c.id.in_(ids)).order_by(notes.c.published_at, notes.c.id)
        )
        return [_note(row) for row in await self._db.fetch_all(query)]
