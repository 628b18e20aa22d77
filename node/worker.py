"""The background worker: works the queues (outgoing deliveries; inbound processing joins in
`run_once`) until told to stop. `conode worker` runs it alone, `conode serve` in-process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from .content import avatars
from .context import Node, open_node
from .federation import delivery
from .inbound import activities
from .network import link_checks
from .notifications import mail
from .offers import proposals as offers
from .settings import Settings

logger = logging.getLogger(__name__)

# Wait this long when nothing was due; a busy queue is worked without pause.
IDLE_SECONDS = 0.5
# Wait this long after a pass failed (say, the database is restarting) before the next one.
ERROR_PAUSE_SECONDS = 5.0


async def run_once(node: Node) -> int:
    """One pass over every queue; returns how many items were processed (0: nothing was due).
    Inbound activities first: acting on them is what queues most deliveries."""
    processed = await activities.process_queued(node)
    processed += await offers.expire_due(node)  # their Updates go out in this same pass
    processed += await link_checks.check_due(node)
    processed += await mail.run_once(node)
    processed += await avatars.fetch_due(node)
    return processed + await delivery.run_once(node)


async def run_in_background(node: Node, stop: asyncio.Event) -> None:
    """Work the queues until `stop` is set; the pass in progress is finished first, so no row
    is left leased. The web app's lifespan runs this as a task for `conode serve`."""
    while not stop.is_set():
        try:
            processed = await run_once(node)
        except Exception:  # the worker loop outlives one bad pass (STYLE.md allows it here)
            logger.exception("worker pass failed; next try in %.0fs", ERROR_PAUSE_SECONDS)
            await _wait(stop, ERROR_PAUSE_SECONDS)
            continue
        if processed == 0:
            await _wait(stop, IDLE_SECONDS)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def run_forever(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """`conode worker`: open the node and work until SIGTERM or SIGINT (or `stop`, if given)."""
    handle_signals = stop is None
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    if handle_signals:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
    try:
        async with open_node(settings) as node:
            await run_in_background(node, stop)
    finally:
        if handle_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
    logger.info("worker stopped")
