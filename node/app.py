"""The application factory; the lifespan owns the database, the HTTP client and the secret."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from node.accounts.sessions import NodeSessions
from node.web import inbox, prerender, responses
from node.web.look_views import SiteLook
from node.web.paging import BadPageLink, bad_page_link
from node.web.ratelimit import RateLimit, RateLimiter
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


class NodeApp(Starlette):
    """The node's Starlette app, with one short cut: an inbox POST, the request other servers
    send most, skips the router and the middleware only pages need (sessions, the look) and
    goes through the hardening headers and the rate limit straight to the inbox pipeline."""

    def __init__(self, *, https: bool, limiter: RateLimiter | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state.https = https
        # as Starlette's own stack does for pages: a crash is logged and answered 500
        guarded = ServerErrorMiddleware(inbox.inbox_app, handler=_server_error)
        self.inbox_stack: ASGIApp = SecurityHeaders(
            RateLimit(guarded, limiter=limiter), https=https
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and inbox.is_inbox_post(scope):
            scope["app"] = self
            await self.inbox_stack(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


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
            responses.warm()  # before uvicorn takes the first request
            # What startup made (modules, templates, catalogues) lives as long as the process:
            # out of the collector's sight, a full collection no longer walks it. Each one took
            # 50-90 ms on the bench machine, a stall for every request in flight (bench/inbox.py,
            # its p99); after this, under 6 ms.
            gc.freeze()
            stop = asyncio.Event()
            task = asyncio.create_task(worker.run_in_background(node, stop, port=port))
            ahead = asyncio.create_task(prerender.run(app, node, stop))
            try:
                yield
            finally:
                stop.set()
                await task
                await ahead

    https = settings.url.startswith("https://")
    limiter = RateLimiter(settings.rate_limit) if settings.rate_limit > 0 else None
    return NodeApp(
        https=https,
        limiter=limiter,
        routes=ROUTES,
        middleware=[
            Middleware(SecurityHeaders, https=https),
            Middleware(RateLimit, limiter=limiter),
            *([Middleware(AuthorizedFetch)] if settings.authorized_fetch else []),
            Middleware(NodeSessions, https_only=https),
            Middleware(SiteLook),
        ],
        lifespan=lifespan,
        exception_handlers={Exception: _server_error, BadPageLink: bad_page_link},
    )


LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def serve_app() -> Starlette:
    """The app of each of `conode serve --processes N`'s web processes (uvicorn starts them,
    each imports this): settings from the environment and `.env`, as the command read them."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    return create_app(load_settings(), run_worker=True)
