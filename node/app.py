"""The application factory; the lifespan owns the database, the HTTP client and the secret."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from activitypub.client import FetchPolicy, make_client

from . import __version__, vault
from .context import Node
from .routes import ROUTES
from .settings import Settings
from .storage import Store

logger = logging.getLogger(__name__)


def user_agent(settings: Settings) -> str:
    # Mastodon and others log and sometimes filter on a UA that names the software and host.
    return f"conode/{__version__} (+{settings.url}/)"


def fetch_policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy(allow_private_networks=settings.allow_private_networks)


async def _server_error(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return PlainTextResponse("Something went wrong on this node; try again later.\n", 500)


def create_app(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    """Build the app; nothing touches the database or the network until startup."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        secret = vault.load_secret(settings.secret_path)
        store = Store(settings.database_url)
        await store.connect()
        policy = fetch_policy(settings)
        async with make_client(
            policy, transport=transport, user_agent=user_agent(settings)
        ) as http:
            app.state.node = Node(settings, store, secret, http, policy)
            try:
                yield
            finally:
                await store.disconnect()

    return Starlette(
        routes=ROUTES,
        lifespan=lifespan,
        exception_handlers={Exception: _server_error},
    )
