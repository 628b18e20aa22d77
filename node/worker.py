"""The background worker loop. Delivery jobs arrive with the federation core; until then it
only keeps its database connection alive, so `conode worker` already runs as deployed."""

from __future__ import annotations

import asyncio
import logging

from .settings import Settings
from .storage import Store

logger = logging.getLogger(__name__)

IDLE_SECONDS = 5.0


async def run_forever(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    store = Store(settings.database_url)
    await store.connect()
    stop = stop or asyncio.Event()
    try:
        while not stop.is_set():
            await store.schema_revision()
            try:
                await asyncio.wait_for(stop.wait(), timeout=IDLE_SECONDS)
            except TimeoutError:
                continue
    finally:
        await store.disconnect()
