"""Which HTTP signature scheme each remote host accepts, remembered until an expiry.

Shared by every process of a node, so a second knock (activitypub/auth.py) is paid once per
host, not once per worker; node/federation/knocking.py decides what to remember.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from .connection import StoreBase
from .schema import signature_schemes


class KnockingQueries(StoreBase):
    _signature_schemes = signature_schemes

    async def signature_schemes_of(self, hosts: Iterable[str], now: datetime) -> dict[str, str]:
        """host -> scheme, for the given hosts whose memory has not expired."""
        table = self._signature_schemes
        wanted = sorted(set(hosts))
        if not wanted:
            return {}
        query = sa.select(table.c.host, table.c.scheme).where(
            table.c.host.in_(wanted), table.c.expires_at > now
        )
        rows = await self._db.fetch_all(query)
        return {row._mapping["host"]: row._mapping["scheme"] for row in rows}

    async def remember_signature_schemes(self, schemes: dict[str, str], until: datetime) -> None:
        """Record (or replace) what each host accepts, valid until `until`."""
        if not schemes:
            return
        table = self._signature_schemes
        insert = self._upsert(table)
        rows = [
            {"host": host, "scheme": scheme, "expires_at": until}
            for host, scheme in sorted(schemes.items())
        ]
        query = insert.values(rows).on_conflict_do_update(
            index_elements=[table.c.host],
            set_={"scheme": insert.excluded.scheme, "expires_at": insert.excluded.expires_at},
        )
        await self._db.execute(query)
