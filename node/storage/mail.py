"""The mail queue: notifications turned into mail, and the leases and retries of sending."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .connection import StoreBase
from .rows import _aware, utcnow
from .schema import local_actors, mail_jobs, notifications


class MailQueries(StoreBase):
    async def notifications_to_mail(
        self, kinds: tuple[str, ...], since: datetime, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Recent notifications of these kinds not yet mailed, for members with an address."""
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
            )
            .order_by(n.c.id)
            .limit(limit)
        )
        return [dict(row._mapping) for row in await self._db.fetch_all(query)]

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
