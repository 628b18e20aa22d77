"""The background worker: works the queues (outgoing deliveries; inbound processing joins in
`run_once`) until told to stop. `conode worker` runs it alone; `conode serve` runs it in-process
only while no `conode worker` beats on the same database, and then yields to requests: after
each pass it waits as long as the pass took."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from datetime import datetime, timedelta

from .content import avatars
from .context import Node, open_node
from .federation import delivery, retry_policy
from .inbound import activities
from .network import link_checks
from .notifications import mail
from .offers import proposals as offers
from .settings import Settings
from .storage import HEARTBEAT_SECONDS, utcnow

logger = logging.getLogger(__name__)

# Wait this long when nothing was due; a busy queue is worked without pause.
IDLE_SECONDS = 0.5
# `conode serve` working the queues itself waits as long as its last pass took (at most this)
# before the next, so requests keep at least half of its event loop.
MAX_YIELD_SECONDS = 1.0
# Wait this long after a pass failed (say, the database is restarting) before the next one.
ERROR_PAUSE_SECONDS = 5.0


async def run_once(node: Node, deliveries: delivery.Passes | None = None) -> int:
    """One pass over every queue; returns how many items were processed (0: nothing was due).
    Inbound activities first: acting on them is what queues most deliveries. A page kept by
    this process is rendered again once after the pass, not after each reply it stored. With
    `deliveries`, the delivery pass is recorded during the next call (delivery.Passes); without,
    everything this pass did is stored when it returns."""
    with node.store.writes_held():
        processed = await activities.process_queued(node)
        processed += await offers.expire_due(node)  # their Updates go out in this same pass
        processed += await link_checks.check_due(node)
        processed += await mail.run_once(node, lease=retry_policy.lease())
        processed += await avatars.fetch_due(node)
        if deliveries is None:
            return processed + await delivery.run_once(node)
        return processed + await deliveries.run()


async def run_in_background(
    node: Node, stop: asyncio.Event, *, process: str = "serve", port: int | None = None
) -> None:
    """Work the queues until `stop` is set; the pass in progress is finished first, so no row
    is left leased. The web app's lifespan runs this as a task for `conode serve`. A heartbeat
    row says the process runs (`process`: serve | worker; `port`: what a serve listens on)
    until it stops."""
    name, started, beaten = retry_policy.worker_name(), utcnow(), float("-inf")
    worker_runs = False
    deliveries = delivery.Passes(node)  # each delivery pass recorded while the next is sent
    try:
        while not stop.is_set():
            if time.monotonic() - beaten >= HEARTBEAT_SECONDS:
                beaten = time.monotonic()
                await _beat(node, name, process, started, port)
                worker_runs = process == "serve" and await _a_worker_runs(node)
            if worker_runs:  # `conode worker` does the work; this process only serves
                await _flush(deliveries)
                await _wait(stop, IDLE_SECONDS)
                continue
            began = time.monotonic()
            await _work(node, stop, deliveries)
            if process == "serve":  # requests first: the queues get at most half the loop
                await _wait(stop, min(time.monotonic() - began, MAX_YIELD_SECONDS))
    finally:
        await _flush(deliveries)
        with contextlib.suppress(Exception):  # the database may be what stopped us
            await node.store.end_heartbeat(name)


async def _a_worker_runs(node: Node) -> bool:
    """A `conode worker` has beaten lately (on this database, from any machine)."""
    try:
        seen = await node.store.heartbeats_since(
            utcnow() - 2 * timedelta(seconds=HEARTBEAT_SECONDS)
        )
    except Exception:
        logger.exception("could not read heartbeats; this process works the queues")
        return False
    return any(row["process"] == "worker" for row in seen)


async def _beat(node: Node, name: str, process: str, started: datetime, port: int | None) -> None:
    try:
        await node.store.beat(name, process, socket.gethostname()[:255], started, port)
    except Exception:  # the worker loop outlives a database that is restarting
        logger.exception("could not record this process's heartbeat")


async def _flush(deliveries: delivery.Passes) -> None:
    """Store the outcomes of the delivery pass sent last; if that fails, its rows stay leased
    and are sent again once the lease ends (as after a crash)."""
    try:
        await deliveries.flush()
    except Exception:  # the database may be what stopped us
        logger.exception("could not record the last delivery pass")


async def _work(node: Node, stop: asyncio.Event, deliveries: delivery.Passes) -> None:
    """One pass, then a pause when there was nothing to do or the pass failed."""
    try:
        processed = await run_once(node, deliveries)
    except Exception:  # the worker loop outlives one bad pass (STYLE.md allows it here)
        logger.exception("worker pass failed; next try in %.0fs", ERROR_PAUSE_SECONDS)
        await _wait(stop, ERROR_PAUSE_SECONDS)
        return
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
            await run_in_background(node, stop, process="worker")
    finally:
        if handle_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
    logger.info("worker stopped")
