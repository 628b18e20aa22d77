"""What the web interface keeps: media, moderation actions, site pages, sign-in failures."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .connection import StoreBase
from .rows import MediaRow, _aware, _media_row, utcnow
from .schema import (
    approved_authors,
    local_actors,
    login_failures,
    media,
    moderation_actions,
    site_identity,
    site_pages,
)

IDENTITY_ROW = 1  # site_identity holds one row


@dataclass(frozen=True)
class SiteIdentityRow:
    """What an admin set; None: not set (the default applies)."""

    name: str | None = None
    accent: str | None = None
    logo_id: str | None = None
    header_id: str | None = None
    updated_at: datetime | None = None


class WebQueries(StoreBase):
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

    async def delete_unattached_media(self, public_ids: list[str]) -> None:
        """Remove media that belong to no post (a member's replaced picture, every size)."""
        m = self._media
        await self._db.execute(
            m.delete().where(m.c.public_id.in_(public_ids), m.c.post_id.is_(None))
        )

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

    async def site_identity(self) -> SiteIdentityRow:
        t = site_identity
        row = await self._db.fetch_one(sa.select(t).where(t.c.id == IDENTITY_ROW))
        if row is None:
            return SiteIdentityRow()
        values = {f.name: row._mapping[f.name] for f in fields(SiteIdentityRow)}
        values["updated_at"] = _aware(values["updated_at"])
        return SiteIdentityRow(**values)

    async def save_site_identity(self, by: int | None, **values: str | None) -> None:
        """Set the given columns (None clears one); the others stay as they are."""
        t = site_identity
        changed = {**values, "updated_by": by, "updated_at": utcnow()}
        query = (
            self._upsert(t)
            .values(id=IDENTITY_ROW, **changed)
            .on_conflict_do_update(index_elements=[t.c.id], set_=changed)
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
