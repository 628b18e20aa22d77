"""Local actors (members, the node's Group and Application) and cached remote actors."""

from __future__ import annotations

from dataclasses import asdict

import sqlalchemy as sa

from .connection import StoreBase
from .content import comments_of_author_changed
from .rows import LocalActorRow, RemoteActorRow, _local_actor, _remote_actor, utcnow
from .schema import local_actors, remote_actors, remote_avatars

# What a comment shows of its remote author (node/content/threads.py): a change re-renders
# their comments.
_SHOWN_WITH_COMMENTS = (remote_actors.c.name, remote_actors.c.username, remote_actors.c.profile_url)


class ActorQueries(StoreBase):
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

    async def set_ed25519_key(self, row_id: int, public: str, private_sealed: str) -> None:
        """Give an actor its proof key, unless a concurrent process gave it one first."""
        query = (
            local_actors.update()
            .where(local_actors.c.id == row_id, local_actors.c.ed25519_public.is_(None))
            .values(ed25519_public=public, ed25519_private_sealed=private_sealed)
        )
        await self._db.execute(query)

    async def set_also_known_as(self, row_id: int, aliases_json: str) -> None:
        query = local_actors.update().where(local_actors.c.id == row_id)
        await self._db.execute(query.values(also_known_as=aliases_json))

    async def set_moved(self, row_id: int, target_id: str) -> bool:
        """Record that the actor moved to `target_id`; False when it had moved already."""
        query = (
            local_actors.update()
            .where(local_actors.c.id == row_id, local_actors.c.moved_to.is_(None))
            .values(moved_to=target_id, moved_at=utcnow())
        )
        return bool(await self._db.execute(query))

    async def local_actor_of_kind(self, kind: str) -> LocalActorRow | None:
        query = sa.select(local_actors).where(local_actors.c.kind == kind).limit(1)
        row = await self._db.fetch_one(query.order_by(local_actors.c.id))
        return _local_actor(row) if row else None

    async def local_actors(self, kind: str | None = None) -> list[LocalActorRow]:
        query = sa.select(local_actors).order_by(local_actors.c.id)
        if kind is not None:
            query = query.where(local_actors.c.kind == kind)
        return [_local_actor(row) for row in await self._db.fetch_all(query)]

    async def sealed_keys(self) -> list[tuple[str, str]]:
        """(username, sealed private key) of every local actor; only columns every schema
        revision has, so it also reads a database `conode init` has not migrated yet."""
        query = sa.select(local_actors.c.username, local_actors.c.private_key_sealed)
        rows = await self._db.fetch_all(query.order_by(local_actors.c.id))
        return [(row[0], row[1]) for row in rows]

    async def members(self, *, limit: int) -> list[LocalActorRow]:
        """The first `limit` people who joined and are not deleted."""
        query = (
            sa.select(local_actors)
            .where(local_actors.c.kind == "Person", local_actors.c.deleted_at.is_(None))
            .order_by(local_actors.c.id)
            .limit(limit)
        )
        return [_local_actor(row) for row in await self._db.fetch_all(query)]

    async def count_local_actors(self, kind: str) -> int:
        """Actors of `kind`, deleted ones left out (NodeInfo and the directory count these)."""
        query = sa.select(sa.func.count()).select_from(local_actors)
        query = query.where(local_actors.c.kind == kind, local_actors.c.deleted_at.is_(None))
        return int(await self._db.fetch_val(query) or 0)

    # --- remote actors ---

    async def upsert_remote_actor(self, actor: RemoteActorRow) -> None:
        values = {k: v for k, v in asdict(actor).items() if k != "id"}
        r = remote_actors
        async with self._db.transaction():
            existing = await self._db.fetch_one(
                sa.select(r.c.id, *_SHOWN_WITH_COMMENTS).where(r.c.actor_id == actor.actor_id)
            )
            if existing is None:
                await self._db.execute(r.insert().values(**values))
            else:
                await self._db.execute(
                    r.update().where(r.c.id == existing._mapping["id"]).values(**values)
                )
            # Until their actor is known, comments show a name taken from the id's path.
            if existing is None or any(
                existing._mapping[c.name] != values[c.name] for c in _SHOWN_WITH_COMMENTS
            ):
                await self._db.execute(comments_of_author_changed(actor.actor_id))

    async def remote_actor(self, actor_id: str) -> RemoteActorRow | None:
        query = sa.select(remote_actors).where(remote_actors.c.actor_id == actor_id)
        row = await self._db.fetch_one(query)
        return _remote_actor(row) if row else None

    async def forget_remote_key(self, actor_id: str) -> None:
        """An actor that deleted itself keeps its row (names on old reports) but not its key:
        whatever arrives signed by it later needs a fresh fetch, which its server refuses."""
        r = remote_actors
        query = r.update().where(r.c.actor_id == actor_id).values(key_id="", public_key_pem="")
        await self._db.execute(query)

    async def remote_actor_by_key(self, key_id: str) -> RemoteActorRow | None:
        if not key_id:  # what forget_remote_key leaves behind is never a key
            return None
        query = sa.select(remote_actors).where(remote_actors.c.key_id == key_id)
        row = await self._db.fetch_one(query)
        return _remote_actor(row) if row else None

    # --- remote people's pictures (node/content/avatars.py) ---

    async def actors_needing_avatars(self, limit: int) -> list[tuple[str, str]]:
        """(actor id, icon URL) of remote actors whose picture was never fetched, or changed."""
        r, a = remote_actors, remote_avatars
        query = (
            sa.select(r.c.actor_id, r.c.icon_url)
            .outerjoin(a, a.c.actor_id == r.c.actor_id)
            .where(
                r.c.icon_url.is_not(None), sa.or_(a.c.id.is_(None), a.c.source_url != r.c.icon_url)
            )
            .limit(limit)
        )
        return [(str(row[0]), str(row[1])) for row in await self._db.fetch_all(query)]

    async def save_remote_avatar(
        self, key: str, actor_id: str, source_url: str, data: bytes | None, problem: str
    ) -> None:
        a = remote_avatars
        values: dict[str, object] = {"actor_id": actor_id, "source_url": source_url}
        values.update(data=data, problem=problem[:200], fetched_at=utcnow())
        query = (
            self._upsert(a)
            .values(key=key, **values)
            .on_conflict_do_update(index_elements=[a.c.key], set_=values)
        )
        await self._db.execute(query)

    async def remote_avatar(self, key: str) -> dict[str, object] | None:
        row = await self._db.fetch_one(sa.select(remote_avatars).where(remote_avatars.c.key == key))
        return dict(row._mapping) if row else None
