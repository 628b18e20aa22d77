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

from node.accounts.sessions import NodeSessions
from node.web.look_views import SiteLook
from node.web.paging import BadPageLink, bad_page_link
from node.web.ratelimit import RateLimit
from node.web.secure_fetch import AuthorizedFetch
from node.web.security_headers import SecurityHeaders, security_headers

from . import worker
from .context import open_node
from .routes import ROUTES
from .settings import Settings, load_settings

logger = logging.getLogger(__name__)


async def _server_error(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    # Answered outside the middleware stack, so it carries the hardening headers itself.
    https = request.app.state.https
    headers = security_headers(https=https)
    return PlainTextResponse("Something went wrong on this node; try again later.\n", 500, headers)


def create_app(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    run_worker: bool = False,
    port: int | None = None,
) -> Starlette:
    """Build the app; nothing touches the database or the network until startup.

    `run_worker` works the queues in-process (`conode serve`); tests step the worker instead.
    `port`: what `conode serve` listens on, recorded with its heartbeat (`conode doctor`).
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_node(settings, transport=transport) as node:
            app.state.node = node
            if not run_worker:
                yield
                return
            stop = asyncio.Event()
            task = asyncio.create_task(worker.run_in_background(node, stop, port=port))
            try:
                yield
            finally:
                stop.set()
                await task

    https = settings.url.startswith("https://")
    app = Starlette(
        routes=ROUTES,
        middleware=[
            Middleware(SecurityHeaders, https=https),
            Middleware(RateLimit, per_minute=settings.rate_limit),
            *([Middleware(AuthorizedFetch)] if settings.authorized_fetch else []),
            Middleware(NodeSessions, https_only=https),
            Middleware(SiteLook),
        ],
        lifespan=lifespan,
        exception_handlers={Exception: _server_error, BadPageLink: bad_page_link},
    )
    app.state.https = https
    return app


LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def serve_app() -> Starlette:
    """The app of each of `conode serve --processes N`'s web processes (uvicorn starts them,
    each imports this): settings from the environment and `.env`, as the command read them."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    return create_app(load_settings(), run_worker=True)
