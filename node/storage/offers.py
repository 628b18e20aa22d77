"""Give and take: offers, responses, agreements and the hours ledger."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

import asyncpg
import sqlalchemy as sa

from .connection import StoreBase
from .rows import (
    AgreementRow,
    NoteRow,
    OfferRow,
    PostRow,
    ResponseRow,
    _agreement,
    _aware,
    _labelled,
    _offer,
    _post_and_offer,
    _response_and_note,
    utcnow,
)
from .schema import agreements, ledger_entries, notes, offer_responses, offers, posts


class OfferQueries(StoreBase):
    # --- give and take: offers, responses, agreements, the ledger (node/offers/proposals.py …) ---

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

    async def open_offers_of(
        self, author_id: int, *, limit: int = 50
    ) -> list[tuple[PostRow, OfferRow]]:
        """A member's open offers and requests, newest first (their profile lists them)."""
        o, p = self._offers, posts
        query = (
            self._board(None)
            .where(p.c.author_id == author_id, o.c.status == "open")
            .order_by(p.c.published_at.desc(), p.c.id.desc())
            .limit(limit)
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

    async def ledger_balance(self, account_id: str) -> int:
        """One account's balance in minutes (given minus received)."""
        e = self._ledger
        query = sa.select(sa.func.sum(e.c.minutes)).where(e.c.account_id == account_id)
        return int(await self._db.fetch_val(query) or 0)

    async def ledger_total(self) -> int:
        return int(await self._db.fetch_val(sa.select(sa.func.sum(self._ledger.c.minutes))) or 0)
