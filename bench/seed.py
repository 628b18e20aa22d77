"""Bulk data for the benchmarks, inserted directly (multi-row INSERTs through the node's own
Store connection): followers spread over shared inboxes, approved comments on a post, posts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from node.storage import Store, utcnow
from node.storage.schema import followers, notes, posts

CHUNK = 1000  # rows per INSERT: under PostgreSQL's and SQLite's bind-parameter limits


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


async def _insert(database_url: str, table: Any, rows: list[dict[str, Any]]) -> None:
    store = Store(database_url)
    await store.connect()
    try:
        for chunk in _chunks(rows):
            async with store.transaction():
                await store._db.execute(table.insert().values(chunk))
    finally:
        await store.disconnect()


async def _member_id(database_url: str, username: str) -> int:
    store = Store(database_url)
    await store.connect()
    try:
        row = await store.local_actor(username)
        assert row is not None, f"no member {username}"
        return row.id
    finally:
        await store.disconnect()


def inbox_url(sink_port: int, number: int, hosts: int = 16) -> str:
    return f"http://127.0.0.{1 + number % hosts}:{sink_port}/inbox/{number}"


def seed_followers(
    database_url: str, username: str, count: int, inboxes: int, sink_port: int
) -> None:
    """`count` followers of `username`, follower n on shared inbox n % `inboxes`."""
    member = asyncio.run(_member_id(database_url, username))
    now = utcnow()
    rows = [
        {
            "local_actor_id": member,
            "actor_id": f"http://127.0.0.{1 + (n % inboxes) % 16}:{sink_port}/users/f{n}",
            "host": f"127.0.0.{1 + (n % inboxes) % 16}:{sink_port}",
            "inbox_url": f"http://127.0.0.{1 + (n % inboxes) % 16}:{sink_port}/users/f{n}/inbox",
            "shared_inbox_url": inbox_url(sink_port, n % inboxes),
            "follow_id": None,
            "created_at": now,
        }
        for n in range(count)
    ]
    asyncio.run(_insert(database_url, followers, rows))


def seed_comments(database_url: str, post_id: int, post_url: str, count: int) -> None:
    """`count` approved public comments on the post (stored post row id `post_id`)."""
    now = utcnow()
    rows = [
        {
            "object_id": f"https://mastodon.example/users/u{n % 500}/statuses/{post_id}-{n}",
            "post_id": post_id,
            "in_reply_to": post_url,
            "author_id": f"https://mastodon.example/users/u{n % 500}",
            "local_author_id": None,
            "host": "mastodon.example",
            "url": None,
            "content_html": f"<p>Comment number {n}: count me in, and thanks for organising.</p>",
            "summary": None,
            "sensitive": False,
            "public": True,
            "status": "approved",
            "published_at": now,
            "updated_at": None,
            "document": None,
            "created_at": now,
        }
        for n in range(count)
    ]
    asyncio.run(_insert(database_url, notes, rows))


def seed_posts(database_url: str, username: str, count: int) -> None:
    """`count` short blog posts by `username`, published over the hour before now."""
    member = asyncio.run(_member_id(database_url, username))
    now = utcnow()
    rows = [
        {
            "public_id": f"seeded-{n}",
            "author_id": member,
            "kind": "blog",
            "title": f"Seeded post {n}",
            "summary": "A post the benchmark put here.",
            "source": "Hello.",
            "content_html": "<p>Hello.</p>",
            "hashtags": "[]",
            "published_at": now - timedelta(minutes=n + 1),
        }
        for n in range(count)
    ]
    asyncio.run(_insert(database_url, posts, rows))
