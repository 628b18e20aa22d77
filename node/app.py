"""The application factory; the lifespan owns the database, the HTTP client and the secret."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from . import worker
from .context import open_node
from .routes import ROUTES
from .sessions import NodeSessions
from .settings import Settings

logger = logging.getLogger(__name__)


async def _server_error(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return PlainTextResponse("Something went wrong on this node; try again later.\n", 500)


def create_app(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    run_worker: bool = False,
) -> Starlette:
    """Build the app; nothing touches the database or the network until startup.

    `run_worker` works the queues in-process (`conode serve`); tests step the worker instead.
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_node(settings, transport=transport) as node:
            app.state.node = node
            if not run_worker:
                yield
                return
            stop = asyncio.Event()
            task = asyncio.create_task(worker.run_in_background(node, stop))
            try:
                yield
            finally:
                stop.set()
                await task

    return Starlette(
        routes=ROUTES,
        middleware=[Middleware(NodeSessions, https_only=settings.url.startswith("https://"))],
        lifespan=lifespan,
        exception_handlers={Exception: _server_error},
    )
