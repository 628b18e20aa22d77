"""Fixtures for node tests that need the fediverse: our node plus fake remote servers."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from activitypub.keys import PublicKey
from node import worker
from node.app import create_app
from node.content import publishing
from node.context import Node
from node.federation import actors
from node.federation.actors import local_actor
from node.settings import Settings
from node.storage import Store

from ..fediverse import FakeServer, Fediverse
from ..sink import InboxSink


@dataclass
class Network:
    node: Node
    http: httpx.AsyncClient  # reaches our node, like any remote server would
    mastodon: FakeServer
    other: FakeServer
    fediverse: Fediverse

    async def drain(self) -> None:
        """Run the worker until there is nothing left to do (no sleeps)."""
        for _ in range(50):
            if await worker.run_once(self.node) == 0:
                return
        raise AssertionError("the worker never went idle")

    async def post(self, title: str = "Spring clean-up report", body: str = "") -> str:
        member = await self.node.store.local_actor("ben")
        assert member is not None
        draft = publishing.Draft(
            kind="report",
            title=title,
            body=body or "We cleared the canal path. #CanalCleanUp\n\nThanks to everyone.",
        )
        post = await publishing.create_post(
            self.node, local_actor(self.node.settings, member), draft
        )
        return publishing.post_id(self.node, post)


@pytest.fixture
async def network(settings: Settings) -> AsyncIterator[Network]:
    """Our node at conode.example, Mastodon at mastodon.example (alice, bob) and a server
    shaped like the others at gts.example (carol)."""
    fediverse = Fediverse()
    # Fake servers have made-up hostnames; DNS is not consulted for them.
    settings = dataclasses.replace(settings, allow_private_networks=True)
    app = create_app(settings, transport=fediverse)
    fediverse.add("conode.example", app)
    mastodon = FakeServer("mastodon.example", fediverse)
    mastodon.add_user("alice")
    mastodon.add_user("bob")
    other = FakeServer("gts.example", fediverse, style="other")
    other.add_user("carol")
    async with app.router.lifespan_context(app), fediverse.client() as http:
        yield Network(app.state.node, http, mastodon, other, fediverse)


@pytest.fixture
async def ben_key(store: Store, settings: Settings) -> PublicKey:
    """The public key of ben, the member every delivery test sends as."""
    row = await store.local_actor("ben")
    assert row is not None
    return actors.public_key(actors.local_actor(settings, row))


@pytest.fixture
def sink(ben_key: PublicKey) -> InboxSink:
    """Inboxes that check ben's signatures (tests/sink.py)."""
    return InboxSink([ben_key])
