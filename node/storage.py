"""Tables and every query. The only module that writes SQL or knows about `databases`."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import sqlalchemy as sa
from databases import Database
from sqlalchemy.dialects import postgresql, sqlite

from .schema import (
    activity_log,
    agreements,
    approved_authors,
    blocks,
    deliveries,
    followers,
    following,
    hosts,
    inbound,
    ledger_entries,
    local_actors,
    login_failures,
    media,
    moderation_actions,
    notes,
    offer_responses,
    offers,
    posts,
    reactions,
    remote_actors,
    remote_posts,
    reports,
    site_pages,
)
from .sqlite_connection import DurableConnection

logger = logging.getLogger(__name__)

_RowT = TypeVar("_RowT")


class DatabaseUrlError(ValueError):
    """A CONODE_DATABASE_URL we cannot use; the message says why and hides any password."""


def redact(url: str) -> str:
    """The URL with any password replaced, safe for error messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def async_url(url: str) -> str:
    """Map the operator's URL to the async driver URL (aiosqlite, asyncpg)."""
    scheme, _, rest = url.partition("://")
    if scheme in ("sqlite", "sqlite+aiosqlite"):
        return f"sqlite+aiosqlite://{rest}"
    if scheme in ("postgresql", "postgres", "postgresql+asyncpg"):
        return f"postgresql+asyncpg://{rest}"
    raise DatabaseUrlError(
        f"CONODE_DATABASE_URL={redact(url)!r}: use sqlite:///path or postgresql://user@host/db"
    )


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_path(url: str) -> Path | None:
    """The file behind a sqlite URL (None for in-memory)."""
    if not is_sqlite(url):
        return None
    path = url.partition("://")[2][1:]  # sqlite:///relative or sqlite:////absolute
    return None if path in ("", ":memory:") else Path(path)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _from_row(cls: type[_RowT], row: Any, *, booleans: tuple[str, ...] = ()) -> _RowT:
    """A result row as its dataclass: datetimes made UTC-aware (SQLite returns them naive),
    booleans made bool (SQLite returns 0/1)."""
    data = dict(row._mapping)
    for name, value in data.items():
        if isinstance(value, datetime):
            data[name] = _aware(value)
    for name in booleans:
        data[name] = bool(data[name])
    return cls(**data)


@dataclass(frozen=True)
class LocalActorRow:
    id: int
    username: str
    kind: str
    display_name: str
    summary: str
    is_admin: bool
    password_hash: str | None
    public_key_pem: str
    private_key_sealed: str
    created_at: datetime


@dataclass(frozen=True)
class RemoteActorRow:
    actor_id: str
    host: str
    type: str
    username: str
    name: str
    profile_url: str | None
    inbox_url: str
    shared_inbox_url: str | None
    key_id: str
    public_key_pem: str
    fetched_at: datetime
    id: int | None = None

    @property
    def handle(self) -> str:
        return f"@{self.username}@{self.host}"


def _remote_actor(row: Any) -> RemoteActorRow:
    return _from_row(RemoteActorRow, row)


@dataclass(frozen=True)
class FollowerRow:
    local_actor_id: int
    actor_id: str
    host: str
    inbox_url: str
    shared_inbox_url: str | None
    follow_id: str | None
    created_at: datetime
    id: int | None = None


def _follower(row: Any) -> FollowerRow:
    return _from_row(FollowerRow, row)


@dataclass(frozen=True)
class PostRow:
    public_id: str
    author_id: int
    kind: str
    title: str
    summary: str
    source: str
    content_html: str
    hashtags: str
    published_at: datetime
    updated_at: datetime | None = None
    deleted_at: datetime | None = None
    id: int | None = None


def _post(row: Any) -> PostRow:
    return _from_row(PostRow, row)


@dataclass(frozen=True)
class NoteRow:
    object_id: str
    post_id: int | None
    in_reply_to: str
    author_id: str
    local_author_id: int | None
    host: str
    url: str | None
    content_html: str
    summary: str | None
    sensitive: bool
    public: bool
    status: str
    published_at: datetime
    created_at: datetime
    updated_at: datetime | None = None
    document: str | None = None
    id: int | None = None


def _note(row: Any) -> NoteRow:
    return _from_row(NoteRow, row, booleans=("public", "sensitive"))


@dataclass(frozen=True)
class MediaRow:
    id: int
    public_id: str
    owner_id: int
    post_id: int | None
    media_type: str
    alt: str
    width: int
    height: int
    data: bytes
    created_at: datetime


def _media_row(row: Any) -> MediaRow:
    data = dict(row._mapping)
    data["created_at"] = _aware(data["created_at"])
    data["data"] = bytes(data["data"])
    return MediaRow(**data)


def _on_domain(column: sa.Column[str], domain: str | None) -> sa.ColumnElement[bool]:
    """The host is the domain or one of its subdomains."""
    return sa.or_(column == domain, column.like(f"%.{domain}"))


def _local_actor(row: Any) -> LocalActorRow:
    return _from_row(LocalActorRow, row, booleans=("is_admin",))


class Store:
    """One database: connection lifecycle plus the queries the node needs."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        options: dict[str, Any] = {}
        if is_sqlite(database_url):
            options["timeout"] = 30  # seconds to wait on a locked database
            options["factory"] = DurableConnection  # WAL, synchronous=FULL on every connection
        else:
            options["min_size"] = 1
            options["max_size"] = 10
        self._db = Database(async_url(database_url), **options)

    async def connect(self) -> None:
        path = sqlite_path(self.url)
        if path is not None and not path.exists():
            raise DatabaseUrlError(f"no database at {path}: run `conode init` first")
        try:
            await self._db.connect()
            await self._db.fetch_val(sa.text("SELECT 1"))
        except (OSError, sqlite3.Error, asyncpg.PostgresError) as exc:
            raise DatabaseUrlError(f"cannot reach the database {redact(self.url)}: {exc}") from exc

    async def disconnect(self) -> None:
        await self._db.disconnect()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        async with self._db.transaction():
            yield

    async def schema_revision(self) -> str | None:
        """The alembic revision the database is at; None when never initialised."""
        if is_sqlite(self.url):
            exists = "SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"
        else:
            exists = "SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version'"
        if not await self._db.fetch_val(exists):
            return None
        value = await self._db.fetch_val("SELECT version_num FROM alembic_version")
        return str(value) if value is not None else None

    # local actors

    async def insert_local_actor(
        self,
        *,
        username: str,
        kind: str,
        display_name: str,
        public_key_pem: str,
        private_key_sealed: str,
        is_admin: bool = False,
        password_hash: str | None = None,
        summary: str = "",
    ) -> LocalActorRow:
        values = {
            "username": username,
            "kind": kind,
            "display_name": display_name,
            "summary": summary,
            "is_admin": is_admin,
            "password_hash": password_hash,
            "public_key_pem": public_key_pem,
            "private_key_sealed": private_key_sealed,
            "created_at": utcnow(),
        }
        await self._db.execute(local_actors.insert().values(**values))
        row = await self.local_actor(username)
        assert row is not None
        return row

    async def local_actor(self, username: str) -> LocalActorRow | None:
        query = sa.select(local_actors).where(local_actors.c.username == username.lower())
        row = await self._db.fetch_one(query)
        return _local_actor(row) if row else None

    async def local_actor_by_row_id(self, row_id: int) -> LocalActorRow | None:
        row = await self._db.fetch_one(sa.select(local_actors).where(local_actors.c.id == row_id))
        return _local_actor(row) if row else None

    async def local_actor_of_kind(self, kind: str) -> LocalActorRow | None:
        query = sa.select(local_actors).where(local_actors.c.kind == kind).limit(1)
        row = await self._db.fetch_one(query.order_by(local_actors.c.id))
        return _local_actor(row) if row else None

    async def local_actors(self, kind: str | None = None) -> list[LocalActorRow]:
        query = sa.select(local_actors).order_by(local_actors.c.id)
        if kind is not None:
            query = query.where(local_actors.c.kind == kind)
        return [_local_actor(row) for row in await self._db.fetch_all(query)]

    async def count_local_actors(self, kind: str) -> int:
        query = sa.select(sa.func.count()).select_from(local_actors)
        value = await self._db.fetch_val(query.where(local_actors.c.kind == kind))
        return int(value or 0)

    # --- remote actors ---

    async def upsert_remote_actor(self, actor: RemoteActorRow) -> None:
        values = {k: v for k, v in asdict(actor).items() if k != "id"}
        async with self._db.transaction():
            existing = await self._db.fetch_val(
                sa.select(remote_actors.c.id).where(remote_actors.c.actor_id == actor.actor_id)
            )
            if existing is None:
                await self._db.execute(remote_actors.insert().values(**values))
            else:
                await self._db.execute(
                    remote_actors.update().where(remote_actors.c.id == existing).values(**values)
                )

    async def remote_actor(self, actor_id: str) -> RemoteActorRow | None:
        query = sa.select(remote_actors).where(remote_actors.c.actor_id == actor_id)
        row = await self._db.fetch_one(query)
        return _remote_actor(row) if row else None

    async def remote_actor_by_key(self, key_id: str) -> RemoteActorRow | None:
        query = sa.select(remote_actors).where(remote_actors.c.key_id == key_id)
        row = await self._db.fetch_one(query)
        return _remote_actor(row) if row else None

    # --- followers and following ---

    async def add_follower(self, follower: FollowerRow) -> bool:
        """Store a follower; False when they already followed (the follow id is refreshed)."""
        values = {k: v for k, v in asdict(follower).items() if k != "id"}
        existing = await self._db.fetch_val(
            sa.select(followers.c.id).where(
                followers.c.local_actor_id == follower.local_actor_id,
                followers.c.actor_id == follower.actor_id,
            )
        )
        if existing is not None:
            await self._db.execute(
                followers.update().where(followers.c.id == existing).values(**values)
            )
            return False
        await self._db.execute(followers.insert().values(**values))
        return True

    async def remove_follower(self, local_actor_id: int, actor_id: str) -> bool:
        result = await self._db.fetch_val(
            sa.select(sa.func.count()).where(
                followers.c.local_actor_id == local_actor_id, followers.c.actor_id == actor_id
            )
        )
        await self._db.execute(
            followers.delete().where(
                followers.c.local_actor_id == local_actor_id, followers.c.actor_id == actor_id
            )
        )
        return bool(result)

    async def remove_followers_matching(self, *, actor_id: str | None, host: str | None) -> int:
        condition = (
            followers.c.actor_id == actor_id if actor_id else _on_domain(followers.c.host, host)
        )
        count = await self._db.fetch_val(sa.select(sa.func.count()).where(condition))
        await self._db.execute(followers.delete().where(condition))
        return int(count or 0)

    async def followers_of(self, local_actor_id: int) -> list[FollowerRow]:
        query = sa.select(followers).where(followers.c.local_actor_id == local_actor_id)
        rows = await self._db.fetch_all(query.order_by(followers.c.id))
        return [_follower(row) for row in rows]

    async def follower_count(self, local_actor_id: int) -> int:
        query = sa.select(sa.func.count()).where(followers.c.local_actor_id == local_actor_id)
        return int(await self._db.fetch_val(query) or 0)

    async def follower_inboxes(self, local_actor_ids: list[int]) -> list[str]:
        """One inbox per follower server where it has a shared inbox: fan-out cost is per
        server, not per follower."""
        inbox = sa.func.coalesce(followers.c.shared_inbox_url, followers.c.inbox_url)
        query = sa.select(inbox).where(followers.c.local_actor_id.in_(local_actor_ids)).distinct()
        return sorted(str(row[0]) for row in await self._db.fetch_all(query))

    async def add_following(self, local_actor_id: int, actor_id: str, follow_id: str) -> None:
        await self._db.execute(
            following.delete().where(
                following.c.local_actor_id == local_actor_id, following.c.actor_id == actor_id
            )
        )
        await self._db.execute(
            following.insert().values(
                local_actor_id=local_actor_id,
                actor_id=actor_id,
                follow_id=follow_id,
                accepted=False,
                created_at=utcnow(),
            )
        )

    async def following_row(self, local_actor_id: int, actor_id: str) -> dict[str, Any] | None:
        row = await self._db.fetch_one(
            sa.select(following).where(
                following.c.local_actor_id == local_actor_id, following.c.actor_id == actor_id
            )
        )
        return dict(row._mapping) if row else None

    async def mark_follow_accepted(self, follow_id: str, actor_id: str) -> bool:
        condition = sa.and_(following.c.follow_id == follow_id, following.c.actor_id == actor_id)
        found = await self._db.fetch_val(sa.select(sa.func.count()).where(condition))
        await self._db.execute(following.update().where(condition).values(accepted=True))
        return bool(found)

    async def remove_following(self, local_actor_id: int, actor_id: str) -> None:
        await self._db.execute(
            following.delete().where(
                following.c.local_actor_id == local_actor_id, following.c.actor_id == actor_id
            )
        )

    async def is_followed_by_members(self, actor_id: str) -> bool:
        query = sa.select(sa.func.count()).where(following.c.actor_id == actor_id)
        return bool(await self._db.fetch_val(query))

    async def following_count(self, local_actor_id: int) -> int:
        query = sa.select(sa.func.count()).where(
            following.c.local_actor_id == local_actor_id, following.c.accepted == sa.true()
        )
        return int(await self._db.fetch_val(query) or 0)

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

    async def posts_tagged(self, tag: str, limit: int = 50) -> list[PostRow]:
        # Tags are stored as a JSON list of names; match the quoted name, case-insensitively.
        pattern = f'%"{tag.lower()}"%'
        query = (
            sa.select(posts)
            .where(posts.c.deleted_at.is_(None), sa.func.lower(posts.c.hashtags).like(pattern))
            .order_by(posts.c.published_at.desc(), posts.c.id.desc())
            .limit(limit)
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
        await self._db.execute(notes.insert().values(**values))
        return True

    async def note(self, object_id: str) -> NoteRow | None:
        row = await self._db.fetch_one(sa.select(notes).where(notes.c.object_id == object_id))
        return _note(row) if row else None

    async def note_by_id(self, note_id: int) -> NoteRow | None:
        row = await self._db.fetch_one(sa.select(notes).where(notes.c.id == note_id))
        return _note(row) if row else None

    async def update_note(self, note_id: int, **values: Any) -> None:
        await self._db.execute(notes.update().where(notes.c.id == note_id).values(**values))

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
        author = notes.c.author_id == actor_id if actor_id else _on_domain(notes.c.host, host)
        condition = sa.and_(author, notes.c.status == old)
        count = await self._db.fetch_val(sa.select(sa.func.count()).where(condition))
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

    # --- moderation ---

    async def approve_author(self, actor_id: str) -> None:
        condition = approved_authors.c.actor_id == actor_id
        if not await self._db.fetch_val(sa.select(sa.func.count()).where(condition)):
            await self._db.execute(
                approved_authors.insert().values(actor_id=actor_id, created_at=utcnow())
            )

    async def is_approved_author(self, actor_id: str) -> bool:
        condition = approved_authors.c.actor_id == actor_id
        return bool(await self._db.fetch_val(sa.select(sa.func.count()).where(condition)))

    async def add_block(self, target: str, kind: str, reason: str) -> bool:
        condition = blocks.c.target == target
        if await self._db.fetch_val(sa.select(sa.func.count()).where(condition)):
            return False
        await self._db.execute(
            blocks.insert().values(target=target, kind=kind, reason=reason, created_at=utcnow())
        )
        return True

    async def remove_block(self, target: str) -> bool:
        condition = blocks.c.target == target
        found = await self._db.fetch_val(sa.select(sa.func.count()).where(condition))
        await self._db.execute(blocks.delete().where(condition))
        return bool(found)

    async def blocks(self) -> list[dict[str, Any]]:
        query = sa.select(blocks).order_by(blocks.c.id)
        return [dict(row._mapping) for row in await self._db.fetch_all(query)]

    async def is_blocked(self, actor_id: str | None, hosts: list[str]) -> bool:
        """Blocked when the actor or any of the given domains is on the block list."""
        targets = [*hosts, *([actor_id] if actor_id else [])]
        if not targets:
            return False
        query = sa.select(sa.func.count()).where(blocks.c.target.in_(targets))
        return bool(await self._db.fetch_val(query))

    async def add_report(
        self, activity_id: str, actor_id: str, content: str, object_ids: list[str]
    ) -> bool:
        condition = reports.c.activity_id == activity_id
        if await self._db.fetch_val(sa.select(sa.func.count()).where(condition)):
            return False
        await self._db.execute(
            reports.insert().values(
                activity_id=activity_id,
                actor_id=actor_id,
                content=content,
                object_ids=json.dumps(object_ids),
                created_at=utcnow(),
            )
        )
        return True

    async def reports(self) -> list[dict[str, Any]]:
        query = sa.select(reports).order_by(reports.c.id)
        rows = [dict(row._mapping) for row in await self._db.fetch_all(query)]
        for row in rows:
            row["object_ids"] = json.loads(row["object_ids"])
            row["created_at"] = _aware(row["created_at"])
        return rows

    # --- inbound activities ---

    async def store_inbound(
        self, activity_id: str, actor_id: str, type_: str, body: str, recipient: str | None
    ) -> bool:
        """Durably queue a verified activity; False when its id was seen before."""
        condition = inbound.c.activity_id == activity_id
        if await self._db.fetch_val(sa.select(sa.func.count()).where(condition)):
            return False
        try:
            await self._db.execute(
                inbound.insert().values(
                    activity_id=activity_id,
                    actor_id=actor_id,
                    type=type_,
                    body=body,
                    recipient=recipient,
                    status="queued",
                    received_at=utcnow(),
                )
            )
        except (sqlite3.IntegrityError, asyncpg.UniqueViolationError):
            return False  # the same activity arrived twice at once
        return True

    async def claim_inbound(self, limit: int, lease: timedelta) -> list[dict[str, Any]]:
        now = utcnow()
        due = (
            sa.select(inbound.c.id)
            .where(
                inbound.c.status == "queued",
                sa.or_(inbound.c.locked_until.is_(None), inbound.c.locked_until < now),
            )
            .order_by(inbound.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._db.transaction():
            ids = [int(row[0]) for row in await self._db.fetch_all(due)]
            if not ids:
                return []
            await self._db.execute(
                inbound.update()
                .where(inbound.c.id.in_(ids))
                .values(locked_until=now + lease, attempts=inbound.c.attempts + 1)
            )
            rows = await self._db.fetch_all(
                sa.select(inbound).where(inbound.c.id.in_(ids)).order_by(inbound.c.id)
            )
        return [dict(row._mapping) for row in rows]

    async def finish_inbound(self, inbound_id: int, status: str) -> None:
        await self._db.execute(
            inbound.update()
            .where(inbound.c.id == inbound_id)
            .values(status=status, locked_until=None)
        )

    async def count_inbound(self, status: str) -> int:
        query = sa.select(sa.func.count()).where(inbound.c.status == status)
        return int(await self._db.fetch_val(query) or 0)

    # --- the activity log ---

    async def log(
        self,
        direction: str,
        outcome: str,
        reason: str = "",
        *,
        activity_id: str | None = None,
        type_: str | None = None,
        actor_id: str | None = None,
        host: str | None = None,
    ) -> None:
        await self._db.execute(
            activity_log.insert().values(
                direction=direction,
                activity_id=activity_id[:2048] if activity_id else None,
                type=type_[:32] if type_ else None,
                actor_id=actor_id[:2048] if actor_id else None,
                host=host,
                outcome=outcome,
                reason=reason[:2000],
                created_at=utcnow(),
            )
        )

    async def log_entries(
        self,
        *,
        direction: str | None = None,
        host: str | None = None,
        outcome: str | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        query = sa.select(activity_log)
        if direction:
            query = query.where(activity_log.c.direction == direction)
        if host:
            query = query.where(activity_log.c.host == host)
        if outcome:
            query = query.where(activity_log.c.outcome == outcome)
        query = query.order_by(activity_log.c.id.desc()).limit(limit)
        rows = [dict(row._mapping) for row in await self._db.fetch_all(query)]
        for row in rows:
            row["created_at"] = _aware(row["created_at"])
        return rows[::-1]

    # --- the web interface: media, moderation actions, site pages, sign-in failures ---

    _media = media
    _moderation_actions = moderation_actions
    _site_pages = site_pages
    _login_failures = login_failures

    async def insert_media(self, **values: Any) -> MediaRow:
        await self._db.execute(self._media.insert().values(created_at=utcnow(), **values))
        row = await self.media(values["public_id"])
        assert row is not None
        return row

    async def media(self, public_id: str) -> MediaRow | None:
        m = self._media
        row = await self._db.fetch_one(sa.select(m).where(m.c.public_id == public_id))
        return _media_row(row) if row else None

    async def attach_media(self, media_ids: list[int], post_id: int) -> None:
        m = self._media
        await self._db.execute(m.update().where(m.c.id.in_(media_ids)).values(post_id=post_id))

    async def media_of_post(self, post_id: int) -> list[MediaRow]:
        m = self._media
        query = sa.select(m).where(m.c.post_id == post_id).order_by(m.c.id)
        return [_media_row(row) for row in await self._db.fetch_all(query)]

    async def record_moderation(
        self, moderator_id: int, action: str, target: str, detail: str = ""
    ) -> None:
        await self._db.execute(
            self._moderation_actions.insert().values(
                moderator_id=moderator_id,
                action=action,
                target=target[:2048],
                detail=detail[:2000],
                created_at=utcnow(),
            )
        )

    async def moderation_history(self, limit: int = 200) -> list[dict[str, Any]]:
        a = self._moderation_actions
        query = (
            sa.select(a, local_actors.c.username)
            .join(local_actors, local_actors.c.id == a.c.moderator_id)
            .order_by(a.c.id.desc())
            .limit(limit)
        )
        rows = [dict(row._mapping) for row in await self._db.fetch_all(query)]
        for row in rows:
            row["created_at"] = _aware(row["created_at"])
        return rows

    async def site_page(self, name: str) -> dict[str, Any] | None:
        p = self._site_pages
        row = await self._db.fetch_one(sa.select(p).where(p.c.name == name))
        return dict(row._mapping) if row else None

    async def save_site_page(self, name: str, source: str, content_html: str, by: int) -> None:
        p = self._site_pages
        values = {"source": source, "content_html": content_html, "updated_by": by}
        query = (
            self._upsert(p)
            .values(name=name, updated_at=utcnow(), **values)
            .on_conflict_do_update(index_elements=[p.c.name], set_=values)
        )
        await self._db.execute(query)

    async def untrust_author(self, actor_id: str) -> None:
        await self._db.execute(
            approved_authors.delete().where(approved_authors.c.actor_id == actor_id)
        )

    async def add_login_failure(self, key: str) -> None:
        await self._db.execute(
            self._login_failures.insert().values(key=key[:300], created_at=utcnow())
        )

    async def count_login_failures(self, key: str, since: datetime) -> int:
        f = self._login_failures
        query = sa.select(sa.func.count()).where(f.c.key == key[:300], f.c.created_at > since)
        return int(await self._db.fetch_val(query) or 0)

    async def clear_login_failures(self, key: str, before: datetime | None = None) -> None:
        f = self._login_failures
        condition = f.c.key == key[:300] if before is None else f.c.created_at < before
        await self._db.execute(f.delete().where(condition))

    # --- deliveries (node/delivery.py) ---

    _deliveries = deliveries
    _hosts = hosts
    # 11 columns a row: 1,000 rows stay under PostgreSQL's 32,767 bind parameters.
    _DELIVERY_INSERT_ROWS = 1000

    def _upsert(self, table: sa.Table) -> Any:
        """INSERT … ON CONFLICT in this database's dialect (the two share the API)."""
        return (sqlite if is_sqlite(self.url) else postgresql).insert(table)

    async def enqueue_deliveries(self, rows: list[dict[str, Any]]) -> int:
        """Insert delivery rows, skipping (activity_id, inbox_url) pairs already queued.

        Returns how many rows are new. Runs inside the caller's transaction, if any.
        """
        table = self._deliveries
        added = 0
        for start in range(0, len(rows), self._DELIVERY_INSERT_ROWS):
            chunk = rows[start : start + self._DELIVERY_INSERT_ROWS]
            query = (
                self._upsert(table)
                .values(chunk)
                .on_conflict_do_nothing(index_elements=["activity_id", "inbox_url"])
                .returning(table.c.id)
            )
            added += len(await self._db.fetch_all(query))
        return added

    async def claim_deliveries(
        self, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[dict[str, Any]]:
        """Lease up to `limit` due rows of unpaused hosts in one statement; counts the attempt.

        PostgreSQL skips rows another worker is claiming (SKIP LOCKED); SQLite has no FOR
        UPDATE, and its single writer serialises claims instead.
        """
        d, h = self._deliveries, self._hosts
        paused = sa.select(h.c.host).where(h.c.paused_until > now)
        due = (
            sa.select(d.c.id)
            .where(
                d.c.status == "pending",
                d.c.next_attempt_at <= now,
                sa.or_(d.c.locked_until.is_(None), d.c.locked_until <= now),
                d.c.host.not_in(paused),
            )
            .order_by(d.c.next_attempt_at, d.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=d)
        )
        query = (
            d.update()
            .where(d.c.id.in_(due))
            .values(locked_until=lease_until, attempts=d.c.attempts + 1)
            .returning(
                d.c.id, d.c.activity_id, d.c.sender, d.c.inbox_url, d.c.host, d.c.body, d.c.attempts
            )
        )
        rows = [dict(row._mapping) for row in await self._db.fetch_all(query)]
        return sorted(rows, key=lambda row: int(row["id"]))

    async def finish_delivery(
        self,
        delivery_id: int,
        *,
        status: str,
        next_attempt_at: datetime | None,
        last_status: int | None,
        last_error: str | None,
    ) -> None:
        """Record an attempt's result and release the lease."""
        values: dict[str, Any] = {
            "status": status,
            "locked_until": None,
            "last_status": last_status,
            "last_error": last_error[:2000] if last_error else None,
        }
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        d = self._deliveries
        await self._db.execute(d.update().where(d.c.id == delivery_id).values(**values))

    async def host_succeeded(self, host: str, now: datetime) -> None:
        h = self._hosts
        healthy = {"consecutive_failures": 0, "paused_until": None, "last_success_at": now}
        query = (
            self._upsert(h)
            .values(host=host, **healthy)
            .on_conflict_do_update(index_elements=[h.c.host], set_=healthy)
        )
        await self._db.execute(query)

    async def host_failed(self, host: str, now: datetime) -> tuple[int, datetime | None]:
        """Count a failure unless the host is paused already (requests in flight when it was
        paused add nothing); returns the consecutive failures and the pause in force, if any."""
        h = self._hosts
        paused = h.c.paused_until > now
        count = sa.case((paused, h.c.consecutive_failures), else_=h.c.consecutive_failures + 1)
        query = (
            self._upsert(h)
            .values(host=host, consecutive_failures=1, last_failure_at=now)
            .on_conflict_do_update(
                index_elements=[h.c.host],
                set_={"consecutive_failures": count, "last_failure_at": now},
            )
            .returning(h.c.consecutive_failures, h.c.paused_until)
        )
        row = await self._db.fetch_one(query)
        assert row is not None
        until = row._mapping["paused_until"]
        return int(row._mapping["consecutive_failures"]), _aware(until) if until else None

    async def pause_host(self, host: str, until: datetime) -> None:
        h = self._hosts
        await self._db.execute(h.update().where(h.c.host == host).values(paused_until=until))

    async def host_health(self, host: str) -> dict[str, Any] | None:
        row = await self._db.fetch_one(sa.select(self._hosts).where(self._hosts.c.host == host))
        if row is None:
            return None
        data = dict(row._mapping)
        for name in ("paused_until", "last_success_at", "last_failure_at"):
            data[name] = _aware(data[name]) if data[name] else None
        return data

    async def deliveries_of(self, activity_id: str) -> list[dict[str, Any]]:
        d = self._deliveries
        query = sa.select(d).where(d.c.activity_id == activity_id).order_by(d.c.id)
        rows = [dict(row._mapping) for row in await self._db.fetch_all(query)]
        for row in rows:
            for name in ("next_attempt_at", "created_at", "locked_until"):
                row[name] = _aware(row[name]) if row[name] else None
        return rows

    async def count_deliveries(self, status: str | None = None) -> int:
        d = self._deliveries
        query = sa.select(sa.func.count()).select_from(d)
        if status is not None:
            query = query.where(d.c.status == status)
        return int(await self._db.fetch_val(query) or 0)

    # --- give and take: offers, responses, agreements, the ledger (node/offers.py …) ---

    _offers = offers
    _responses = offer_responses
    _agreements = agreements
    _ledger = ledger_entries

    async def insert_offer(self, **values: Any) -> OfferRow:
        await self._db.execute(self._offers.insert().values(status="open", **values))
        row = await self.offer_of_post(values["post_id"])
        assert row is not None
        return row

    async def offer_of_post(self, post_id: int) -> OfferRow | None:
        query = sa.select(self._offers).where(self._offers.c.post_id == post_id)
        row = await self._db.fetch_one(query)
        return _offer(row) if row else None

    async def offer_by_id(self, offer_id: int) -> OfferRow | None:
        row = await self._db.fetch_one(sa.select(self._offers).where(self._offers.c.id == offer_id))
        return _offer(row) if row else None

    async def update_offer(self, offer_id: int, **values: Any) -> None:
        o = self._offers
        await self._db.execute(o.update().where(o.c.id == offer_id).values(**values))

    def _board(self, category: str | None) -> Any:
        o, p = self._offers, posts
        query = (
            sa.select(*_labelled(p, "post_"), *_labelled(o, "offer_"))
            .join(o, o.c.post_id == p.c.id)
            .where(p.c.deleted_at.is_(None))
        )
        return query if category is None else query.where(sa.func.lower(o.c.category) == category)

    async def offers_board(
        self, *, category: str | None = None, limit: int = 500, offset: int = 0
    ) -> list[tuple[PostRow, OfferRow]]:
        """Open first, then by category (uncategorised last), newest first."""
        o, p = self._offers, posts
        query = (
            self._board(category)
            .order_by(
                o.c.status != "open",  # false sorts first in SQLite and PostgreSQL
                o.c.category.is_(None),
                sa.func.lower(o.c.category),
                p.c.published_at.desc(),
                p.c.id.desc(),
            )
            .limit(limit)
            .offset(offset)
        )
        return [_post_and_offer(row) for row in await self._db.fetch_all(query)]

    async def count_offers(self, *, category: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(self._board(category).subquery())
        return int(await self._db.fetch_val(query) or 0)

    async def offers_due_to_expire(self, now: datetime) -> list[tuple[PostRow, OfferRow]]:
        o = self._offers
        query = self._board(None).where(o.c.status == "open", o.c.expires_at < now)
        return [_post_and_offer(row) for row in await self._db.fetch_all(query.limit(100))]

    async def insert_response(
        self, *, offer_id: int, note_id: int, actor_id: str, kind: str, minutes: int | None
    ) -> bool:
        """Relate a stored note to an offer as a response; False when it already is one."""
        r = self._responses
        if await self._db.fetch_val(sa.select(sa.func.count()).where(r.c.note_id == note_id)):
            return False
        values = {"offer_id": offer_id, "note_id": note_id, "actor_id": actor_id, "kind": kind}
        await self._db.execute(r.insert().values(minutes=minutes, created_at=utcnow(), **values))
        return True

    async def responses_to(self, offer_id: int) -> list[tuple[ResponseRow, NoteRow]]:
        r = self._responses
        query = sa.select(*_labelled(r, "response_"), *_labelled(notes, "note_"))
        query = query.join(notes, notes.c.id == r.c.note_id)
        rows = await self._db.fetch_all(query.where(r.c.offer_id == offer_id).order_by(r.c.id))
        return [_response_and_note(row) for row in rows]

    async def response(self, response_id: int) -> tuple[ResponseRow, NoteRow] | None:
        r = self._responses
        query = sa.select(*_labelled(r, "response_"), *_labelled(notes, "note_"))
        query = query.join(notes, notes.c.id == r.c.note_id)
        row = await self._db.fetch_one(query.where(r.c.id == response_id))
        return _response_and_note(row) if row else None

    async def update_response(self, response_id: int, **values: Any) -> None:
        r = self._responses
        await self._db.execute(r.update().where(r.c.id == response_id).values(**values))

    async def insert_agreement(self, **values: Any) -> AgreementRow:
        table = self._agreements
        await self._db.execute(
            table.insert().values(status="agreed", created_at=utcnow(), **values)
        )
        row = await self.agreement(values["object_id"])
        assert row is not None
        return row

    async def agreement(self, object_id: str) -> AgreementRow | None:
        a = self._agreements
        row = await self._db.fetch_one(sa.select(a).where(a.c.object_id == object_id))
        return _agreement(row) if row else None

    async def agreements(
        self, *, offer_id: int | None = None, limit: int = 500
    ) -> list[AgreementRow]:
        a = self._agreements
        query = sa.select(a).order_by(a.c.id.desc()).limit(limit)
        if offer_id is not None:
            query = query.where(a.c.offer_id == offer_id)
        return [_agreement(row) for row in await self._db.fetch_all(query)]

    async def complete_agreement(
        self, agreement_id: int, minutes: int, entries: list[tuple[str, int | None, int]]
    ) -> bool:
        """Mark it completed and write its ledger entries (account, local actor, ±minutes) in
        one transaction; False, with nothing written, when it was completed already."""
        a, now = self._agreements, utcnow()
        rows = [
            {"agreement_id": agreement_id, "account_id": account, "local_actor_id": local}
            | {"minutes": amount, "created_at": now}
            for account, local, amount in entries
        ]
        try:
            async with self._db.transaction():
                status = await self._db.fetch_val(
                    sa.select(a.c.status).where(a.c.id == agreement_id)
                )
                if status != "agreed":
                    return False
                await self._db.execute(
                    a.update()
                    .where(a.c.id == agreement_id)
                    .values(status="completed", completed_minutes=minutes, completed_at=now)
                )
                await self._db.execute(self._ledger.insert().values(rows))
        except (sqlite3.IntegrityError, asyncpg.UniqueViolationError):
            return False  # completed at the same moment by another process
        return True

    async def ledger_balances(self) -> list[dict[str, Any]]:
        """Per account: balance, hours given and received (minutes), local member first."""
        e = self._ledger
        given = sa.func.sum(sa.case((e.c.minutes > 0, e.c.minutes), else_=0))
        received = sa.func.sum(sa.case((e.c.minutes < 0, -e.c.minutes), else_=0))
        query = (
            sa.select(
                e.c.account_id,
                sa.func.max(e.c.local_actor_id).label("local_actor_id"),
                sa.func.sum(e.c.minutes).label("balance"),
                given.label("given"),
                received.label("received"),
            )
            .group_by(e.c.account_id)
            .order_by(sa.func.max(e.c.local_actor_id).is_(None), e.c.account_id)
        )
        return [dict(row._mapping) for row in await self._db.fetch_all(query)]

    async def ledger_history(self, account_id: str | None = None) -> list[dict[str, Any]]:
        """Entries with their agreement, oldest first; one account's or everyone's."""
        e, a = self._ledger, self._agreements
        query = sa.select(
            e.c.account_id,
            e.c.minutes,
            e.c.created_at,
            a.c.object_id.label("agreement"),
            a.c.proposal_id,
            a.c.title,
            a.c.provider_id,
            a.c.receiver_id,
        ).join(a, a.c.id == e.c.agreement_id)
        if account_id is not None:
            query = query.where(e.c.account_id == account_id)
        rows = [dict(row._mapping) for row in await self._db.fetch_all(query.order_by(e.c.id))]
        for row in rows:
            row["created_at"] = _aware(row["created_at"])
        return rows

    async def ledger_total(self) -> int:
        return int(await self._db.fetch_val(sa.select(sa.func.sum(self._ledger.c.minutes))) or 0)

    # --- end of Store ---


# schema


MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def migrate(database_url: str) -> str | None:
    """Bring the schema to the newest revision; returns the revision it started from.

    Synchronous on purpose: alembic runs its own event loop, so call this before serving.
    """
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    path = sqlite_path(database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)

    async def current_revision() -> str | None:
        engine = create_async_engine(async_url(database_url))
        try:
            async with engine.connect() as connection:
                if connection.dialect.name == "sqlite":
                    # WAL is a property of the file: set once, every later connection uses it.
                    await connection.exec_driver_sql("PRAGMA journal_mode=WAL")
                return await connection.run_sync(
                    lambda sync: MigrationContext.configure(sync).get_current_revision()
                )
        except (OSError, sqlite3.Error, asyncpg.PostgresError, sa.exc.DBAPIError) as exc:
            raise DatabaseUrlError(
                f"cannot reach the database {redact(database_url)}: {exc}"
            ) from exc
        finally:
            await engine.dispose()

    import asyncio

    before = asyncio.run(current_revision())
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    command.upgrade(config, "head")
    return before


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


# --- give and take rows (their queries are in Store's give-and-take section) -------------------


def _labelled(table: sa.Table, prefix: str) -> list[sa.Label[Any]]:
    """A table's columns named prefix+column, so a join keeps both tables' `id`s apart."""
    return [column.label(prefix + column.name) for column in table.columns]


def _unprefixed(row: Any, prefix: str) -> dict[str, Any]:
    data = dict(row._mapping)
    return {key.removeprefix(prefix): data[key] for key in data if key.startswith(prefix)}


@dataclass(frozen=True)
class OfferRow:
    id: int
    post_id: int
    category: str | None
    minutes: int | None
    place: str | None
    expires_at: datetime | None
    status: str
    closed_at: datetime | None


def _offer(row: Any, prefix: str = "") -> OfferRow:
    data = _unprefixed(row, prefix) if prefix else dict(row._mapping)
    for name in ("expires_at", "closed_at"):
        data[name] = _aware(data[name]) if data[name] else None
    return OfferRow(**data)


def _post_and_offer(row: Any) -> tuple[PostRow, OfferRow]:
    post = _post(_Mapped(_unprefixed(row, "post_")))
    return post, _offer(row, "offer_")


@dataclass(frozen=True)
class _Mapped:
    """A plain dict dressed as a result row, for the converters above that read `_mapping`."""

    _mapping: dict[str, Any]


@dataclass(frozen=True)
class ResponseRow:
    id: int
    offer_id: int
    note_id: int
    actor_id: str
    kind: str  # reply | agreement
    minutes: int | None
    created_at: datetime


def _response_and_note(row: Any) -> tuple[ResponseRow, NoteRow]:
    data = _unprefixed(row, "response_")
    data["created_at"] = _aware(data["created_at"])
    return ResponseRow(**data), _note(_Mapped(_unprefixed(row, "note_")))


@dataclass(frozen=True)
class AgreementRow:
    id: int
    object_id: str
    offer_id: int | None
    response_id: int | None
    proposal_id: str
    title: str
    proposer_id: str
    provider_id: str
    receiver_id: str
    minutes: int | None
    status: str
    completed_minutes: int | None
    completed_at: datetime | None
    created_at: datetime


def _agreement(row: Any) -> AgreementRow:
    return _from_row(AgreementRow, row)
