"""The authors of many comments at once: one query per kind of author, so a page of comments
costs the same few queries however many comments it shows (tests/node/test_page_queries.py)."""

from __future__ import annotations

import sqlalchemy as sa

from .connection import StoreBase
from .rows import LocalActorRow, RemoteActorRow, _local_actor, _remote_actor
from .schema import local_actors, remote_actors

# Bind parameters per IN list: under SQLite's and PostgreSQL's limits.
CHUNK = 500


class AuthorQueries(StoreBase):
    async def remote_actors_by_id(self, actor_ids: list[str]) -> dict[str, RemoteActorRow]:
        wanted = sorted(set(actor_ids))
        found: dict[str, RemoteActorRow] = {}
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            query = sa.select(remote_actors).where(remote_actors.c.actor_id.in_(chunk))
            for row in await self._db.fetch_all(query):
                actor = _remote_actor(row)
                found[actor.actor_id] = actor
        return found

    async def local_actors_by_row_id(self, row_ids: list[int]) -> dict[int, LocalActorRow]:
        wanted = sorted(set(row_ids))
        found: dict[int, LocalActorRow] = {}
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            query = sa.select(local_actors).where(local_actors.c.id.in_(chunk))
            for row in await self._db.fetch_all(query):
                actor = _local_actor(row)
                found[actor.id] = actor
        return found
