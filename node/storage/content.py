"""Posts, notes (comments and members' replies), remote posts and reactions."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import sqlalchemy as sa

from .connection import StoreBase
from .rows import NoteRow, PostRow, _note, _on_server, _post, utcnow
from .schema import notes, posts, reactions, remote_posts


def comments_changed(which: sa.ColumnElement[bool]) -> sa.Update:
    """What these posts' pages show as comments has changed: lists rendered before are stale
    (node/cache/comments.py). Run in the transaction that makes the change."""
    version = posts.c.comments_version
    return posts.update().where(which).values(comments_version=version + 1)


def comments_of_author_changed(actor_id: str) -> sa.Update:
    """The author's name or profile changed: every post they commented on shows it."""
    return comments_changed(
        posts.c.id.in_(sa.select(notes.c.post_id).where(notes.c.author_id == actor_id))
    )


class ContentQueries(StoreBase):
    # --- posts ---

    async def insert_post(self, post: PostRow) -> PostRow:
        values = {k: v for k, v in asdict(post).items() if k != "id"}
        await self._db.execute(posts.insert().values(**values))
        row = await self.post(post.public_id)
        assert row is not None
        return row

    async def post(self, public_id: str) -> PostRow | None:
        row = await self._db.fetch_one(sa.select(posts).where(posts.c.public_id == public_id))
        return _post(row) if row else None

    async def post_by_id(self, post_id: int) -> PostRow | None:
        row = await self._db.fetch_one(sa.select(posts).where(posts.c.id == post_id))
        return _post(row) if row else None

    async def update_post(self, post_id: int, **values: Any) -> None:
        await self._db.execute(posts.update().where(posts.c.id == post_id).values(**values))

    async def recent_posts(self, limit: int = 20, *, offset: int = 0) -> list[PostRow]:
        query = (
            sa.select(posts)
            .where(posts.c.deleted_at.is_(None))
            .order_by(posts.c.published_at.desc(), posts.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [_post(row) for row in await self._db.fetch_all(query)]

    async def posts_by(self, author_id: int, *, limit: int, offset: int = 0) -> list[PostRow]:
        query = (
            sa.select(posts)
            .where(posts.c.author_id == author_id, posts.c.deleted_at.is_(None))
            .order_by(posts.c.published_at.desc(), posts.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [_post(row) for row in await self._db.fetch_all(query)]

    async def count_posts(self, author_id: int | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(posts).where(posts.c.deleted_at.is_(None))
        if author_id is not None:
            query = query.where(posts.c.author_id == author_id)
        return int(await self._db.fetch_val(query) or 0)

    # --- notes (comments and our members' replies) ---

    async def insert_note(self, note: NoteRow) -> bool:
        """Store a note once; a repeated object id changes nothing and returns False."""
        if await self.note(note.object_id) is not None:
            return False
        values = {k: v for k, v in asdict(note).items() if k != "id"}
        async with self.transaction():
            await self._db.execute(notes.insert().values(**values))
            if note.post_id is not None:
                await self._bump_comments(posts.c.id == note.post_id)
        return True

    async def _bump_comments(self, which: sa.ColumnElement[bool]) -> None:
        await self._db.execute(comments_changed(which))

    async def note(self, object_id: str) -> NoteRow | None:
        row = await self._db.fetch_one(sa.select(notes).where(notes.c.object_id == object_id))
        return _note(row) if row else None

    async def note_by_id(self, note_id: int) -> NoteRow | None:
        row = await self._db.fetch_one(sa.select(notes).where(notes.c.id == note_id))
        return _note(row) if row else None

    async def update_note(self, note_id: int, **values: Any) -> None:
        async with self.transaction():
            await self._db.execute(notes.update().where(notes.c.id == note_id).values(**values))
            post_of_note = sa.select(notes.c.post_id).where(notes.c.id == note_id)
            await self._bump_comments(posts.c.id.in_(post_of_note))

    async def notes_with_status(self, status: str | None, *, limit: int = 500) -> list[NoteRow]:
        query = sa.select(notes).where(notes.c.post_id.is_not(None))
        if status is not None:
            query = query.where(notes.c.status == status)
        query = query.order_by(notes.c.created_at, notes.c.id).limit(limit)
        return [_note(row) for row in await self._db.fetch_all(query)]

    def _visible(self, post_id: int) -> sa.ColumnElement[bool]:
        return sa.and_(
            notes.c.post_id == post_id, notes.c.status == "approved", notes.c.public == sa.true()
        )

    async def visible_comments(self, post_id: int, *, limit: int, offset: int = 0) -> list[NoteRow]:
        query = (
            sa.select(notes)
            .where(self._visible(post_id))
            .order_by(notes.c.published_at, notes.c.id)
            .limit(limit)
            .offset(offset)
        )
        return [_note(row) for row in await self._db.fetch_all(query)]

    async def count_visible_comments(self, post_id: int) -> int:
        query = sa.select(sa.func.count()).where(self._visible(post_id))
        return int(await self._db.fetch_val(query) or 0)

    async def set_status_of_notes_from(
        self, *, actor_id: str | None, host: str | None, old: str, new: str
    ) -> int:
        author = (
            notes.c.author_id == actor_id
            if actor_id
            else _on_server(notes.c.host, notes.c.author_id, host)
        )
        condition = sa.and_(author, notes.c.status == old)
        async with self.transaction():
            count = await self._db.fetch_val(sa.select(sa.func.count()).where(condition))
            if count:
                await self._bump_comments(
                    posts.c.id.in_(sa.select(notes.c.post_id).where(condition))
                )
                await self._db.execute(notes.update().where(condition).values(status=new))
        return int(count or 0)

    # --- remote posts (from accounts our members follow) ---

    async def upsert_remote_post(
        self, object_id: str, actor_id: str, type_: str, document: str
    ) -> bool:
        existing = await self._db.fetch_val(
            sa.select(remote_posts.c.id).where(remote_posts.c.object_id == object_id)
        )
        if existing is not None:
            await self._db.execute(
                remote_posts.update()
                .where(remote_posts.c.id == existing)
                .values(document=document, type=type_)
            )
            return False
        await self._db.execute(
            remote_posts.insert().values(
                object_id=object_id,
                actor_id=actor_id,
                type=type_,
                document=document,
                received_at=utcnow(),
            )
        )
        return True

    async def remote_post(self, object_id: str) -> dict[str, Any] | None:
        query = sa.select(remote_posts).where(remote_posts.c.object_id == object_id)
        row = await self._db.fetch_one(query)
        return dict(row._mapping) if row else None

    async def delete_remote_post(self, object_id: str) -> bool:
        condition = remote_posts.c.object_id == object_id
        found = await self._db.fetch_val(sa.select(sa.func.count()).where(condition))
        await self._db.execute(
            remote_posts.update().where(condition).values(deleted_at=utcnow(), document="{}")
        )
        return bool(found)

    async def recent_remote_posts(self, limit: int = 20) -> list[dict[str, Any]]:
        query = (
            sa.select(remote_posts)
            .where(remote_posts.c.deleted_at.is_(None))
            .order_by(remote_posts.c.received_at.desc())
            .limit(limit)
        )
        return [dict(row._mapping) for row in await self._db.fetch_all(query)]

    # --- reactions ---

    async def add_reaction(
        self, activity_id: str, kind: str, object_id: str, actor_id: str
    ) -> bool:
        condition = reactions.c.activity_id == activity_id
        if await self._db.fetch_val(sa.select(sa.func.count()).where(condition)):
            return False
        await self._db.execute(
            reactions.insert().values(
                activity_id=activity_id,
                kind=kind,
                object_id=object_id,
                actor_id=actor_id,
                created_at=utcnow(),
            )
        )
        return True

    async def remove_reaction(self, activity_id: str, actor_id: str) -> bool:
        condition = sa.and_(
            reactions.c.activity_id == activity_id, reactions.c.actor_id == actor_id
        )
        found = await self._db.fetch_val(sa.select(sa.func.count()).where(condition))
        await self._db.execute(reactions.delete().where(condition))
        return bool(found)

    async def reaction_counts(self, object_id: str) -> dict[str, int]:
        query = (
            sa.select(reactions.c.kind, sa.func.count())
            .where(reactions.c.object_id == object_id)
            .group_by(reactions.c.kind)
        )
        return {str(row[0]): int(row[1]) for row in await self._db.fetch_all(query)}
