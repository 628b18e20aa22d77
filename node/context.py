"""What a running node holds for its lifetime: settings, the store, the secret, an HTTP client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

from activitypub.aiohttp_transport import Deliverer
from activitypub.client import FetchPolicy, make_client
from node.cache.comments import CommentCache
from node.cache.keys import KeyCache
from node.cache.look import Refreshed
from node.cache.pages import PageCache, VersionReader
from node.cache.views import ViewCounter

from . import __version__
from .ops import vault
from .settings import Settings
from .storage import SiteIdentityRow, Store


@dataclass(frozen=True)
class Node:
    settings: Settings
    store: Store
    secret: bytes
    http: httpx.AsyncClient
    fetch_policy: FetchPolicy
    keys: KeyCache = field(default_factory=KeyCache, compare=False)  # per process
    # Deliveries' own client (aiohttp directly, activitypub/aiohttp_transport.py); None:
    # deliveries use `http` (tests that route requests through an in-process transport).
    deliverer: Deliverer | None = None
    comments: CommentCache = field(default_factory=CommentCache, compare=False)  # per process
    views: ViewCounter = field(default_factory=ViewCounter, compare=False)  # per process
    # the community's look as last read (node/content/identity.py), per process
    look: Refreshed[SiteIdentityRow] = field(default_factory=Refreshed, compare=False)
    pages: PageCache = field(default_factory=PageCache, compare=False)  # per process
    # usernames with a personal inbox here: rows of local_actors are never deleted (a deleted
    # account keeps its row, marked), so a name once found stays good (node/web/inbox.py)
    inbox_names: set[str] = field(default_factory=set, compare=False)  # per process
    # the site's content version, read again after a write (node/cache/pages.py)
    versions: VersionReader = field(init=False, compare=False)

    def __post_init__(self) -> None:
        versions = VersionReader(self.store.content_version, lambda: self.store.writes)
        object.__setattr__(self, "versions", versions)


def user_agent(settings: Settings) -> str:
    # Mastodon and others log and sometimes filter on a UA that names the software and host.
    return f"conode/{__version__} (+{settings.url}/)"


def fetch_policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy(allow_private_networks=settings.allow_private_networks)


@asynccontextmanager
async def open_node(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[Node]:
    """Everything a process (web, worker or CLI) needs, opened together and closed together."""
    secret = vault.load_secret(settings.secret_path)
    store = Store(settings.database_url)
    await store.connect()
    policy = fetch_policy(settings)
    agent = user_agent(settings)
    try:
        async with (
            make_client(policy, transport=transport, user_agent=agent) as http,
            Deliverer(policy, user_agent=agent, signing_threads=settings.signing_threads)
            if transport is None
            else contextlib.nullcontext() as deliverer,
        ):
            node = Node(settings, store, secret, http, policy, deliverer=deliverer)
            try:
                yield node
            finally:
                await flush_views(node)
    finally:
        await store.disconnect()


async def flush_views(node: Node) -> None:
    """Write the page views this process has counted (node/cache/views.py)."""
    counts = node.views.take()
    if counts:
        await node.store.add_views(counts)
