"""The mail queue: notifications turned into mail, and the leases and retries of sending."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .connection import StoreBase
from .rows import _aware, utcnow
from .schema import local_actors, mail_jobs, notifications


def _chosen(defaults: tuple[str, ...]) -> sa.ColumnElement[bool]:
    """The member chose to get the notification's kind by mail (NULL choices: `defaults`)."""
    n, a = notifications, local_actors
    return sa.or_(
        sa.and_(a.c.mail_kinds.is_(None), n.c.kind.in_(defaults)),
        a.c.mail_kinds.like(sa.literal("%,") + n.c.kind + sa.literal(",%")),
    )


class MailQueries(StoreBase):
    async def notifications_to_mail(
        self,
        kinds: tuple[str, ...],
        since: datetime,
        *,
        defaults: tuple[str, ...],
        digest_before: datetime | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Recent notifications of these kinds not yet mailed, for members with an address
        who chose the kind. With `digest_before`, only for members whose last digest went out
        before then (or never)."""
        n, a = notifications, local_actors
        query = (
            sa.select(n, a.c.email, a.c.username)
            .join(a, a.c.id == n.c.recipient_id)
            .where(
                n.c.kind.in_(kinds),
                n.c.mailed_at.is_(None),
                n.c.created_at > since,
                a.c.email.is_not(None),
                a.c.deleted_at.is_(None),
                _chosen(defaults),
            )
            .order_by(n.c.id)
            .limit(limit)
        )
        if digest_before is not None:
            last = a.c.mail_digest_at
            query = query.where(sa.or_(last.is_(None), last <= digest_before))
        return [dict(row._mapping) for row in await self._db.fetch_all(query)]

    async def queue_digest(
        self,
        recipient_id: int,
        notification_ids: list[int],
        *,
        now: datetime,
        digest_before: datetime,
        **job: Any,
    ) -> bool:
        """One mail for several notifications, which are marked with it, and the member's
        digest time set, in one transaction; False (nothing done) when another worker sent
        this member a digest after `digest_before` meanwhile."""
        n, a = notifications, local_actors
        last = a.c.mail_digest_at
        async with self._db.transaction():
            taken = await self._db.fetch_val(
                a.update()
                .where(a.c.id == recipient_id, sa.or_(last.is_(None), last <= digest_before))
                .values(mail_digest_at=now)
                .returning(a.c.id)
            )
            if taken is None:
                return False
            await self._db.execute(
                n.update()
                .where(n.c.id.in_(notification_ids), n.c.mailed_at.is_(None))
                .values(mailed_at=now)
            )
            await self.insert_mail_job(**job)
        return True

    async def queue_mail(self, notification_id: int, **job: Any) -> None:
        """The job and the notification's mark, together: each notification is mailed once."""
        now = utcnow()
        async with self._db.transaction():
            n = notifications
            marked = await self._db.fetch_val(
                n.update()
                .where(n.c.id == notification_id, n.c.mailed_at.is_(None))
                .values(mailed_at=now)
                .returning(n.c.id)
            )
            if marked is None:
                return
            await self.insert_mail_job(**job)

    async def insert_mail_job(self, **job: Any) -> None:
        now = utcnow()
        values = {"status": "pending", "attempts": 0, "next_attempt_at": now}
        await self._db.execute(mail_jobs.insert().values(created_at=now, **values, **job))

    async def claim_mail(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[dict[str, Any]]:
        """Due jobs, each leased by one conditional UPDATE: a job another worker holds (or
        held until its lease ran out mid-send) is taken only once the lease is over."""
        m = mail_jobs
        free = sa.or_(m.c.locked_until.is_(None), m.c.locked_until < now)
        due = sa.and_(m.c.status == "pending", m.c.next_attempt_at <= now, free)
        ids = [
            row[0] for row in await self._db.fetch_all(sa.select(m.c.id).where(due).limit(limit))
        ]
        claimed = []
        for job_id in ids:
            row = await self._db.fetch_one(
                m.update()
                .where(m.c.id == job_id, due)
                .values(locked_until=lease_until)
                .returning(m)
            )
            if row is not None:
                claimed.append(dict(row._mapping))
        return claimed

    async def finish_mail(self, job_id: int, **values: Any) -> None:
        m = mail_jobs
        await self._db.execute(
            m.update().where(m.c.id == job_id).values(locked_until=None, **values)
        )

    async def mail_jobs(self) -> list[dict[str, Any]]:
        rows = [dict(row._mapping) for row in await self._db.fetch_all(sa.select(mail_jobs))]
        for row in rows:
            row["next_attempt_at"] = _aware(row["next_attempt_at"])
        return rows
