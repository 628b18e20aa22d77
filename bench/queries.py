"""Queries benchmark, in process: what one Store call costs the event loop's thread (CPU time
measured with `time.thread_time()`, the best of several rounds, so other work on a shared
machine moves it little), beside the same SQL run with plain sqlite3 on that thread in the
same run (the floor: no driver, no hand-off to another thread). Calls: a one-row lookup
(`Store.post`), the offers board (10 offers), a transaction with one read.
Prints JSON. Usage: .venv/bin/python bench/queries.py [--calls 150] [--rounds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any

import common
import seed

from node.storage import Store, sqlite_path

OFFERS = 10


def _best_us(rounds: list[float], calls: int) -> float:
    return round(1e6 * min(rounds) / calls, 1)


async def _loop_cpu(call: Callable[[], Awaitable[Any]], calls: int, rounds: int) -> float:
    for _ in range(10):
        await call()
    spent = []
    for _ in range(rounds):
        start = time.thread_time()
        for _ in range(calls):
            await call()
        spent.append(time.thread_time() - start)
    return _best_us(spent, calls)


def _plain_cpu(path: str, sql: str, params: tuple[Any, ...], calls: int, rounds: int) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        spent = []
        for _ in range(rounds):
            start = time.thread_time()
            for _ in range(calls):
                cursor = connection.execute(sql, params)
                cursor.fetchall()
                cursor.close()
            spent.append(time.thread_time() - start)
        return _best_us(spent, calls)
    finally:
        connection.close()


async def _measure(database_url: str, public_id: str, calls: int, rounds: int) -> dict[str, Any]:
    store = Store(database_url)
    await store.connect()
    try:

        async def in_transaction() -> None:
            async with store.transaction():
                await store.post(public_id)

        return {
            "one_row_lookup_loop_cpu_us": await _loop_cpu(
                lambda: store.post(public_id), calls, rounds
            ),
            "offers_board_loop_cpu_us": await _loop_cpu(
                lambda: store.offers_board(limit=OFFERS), calls, rounds
            ),
            "transaction_with_one_read_loop_cpu_us": await _loop_cpu(in_transaction, calls, rounds),
        }
    finally:
        await store.disconnect()


def bench(args: argparse.Namespace) -> dict[str, Any]:
    with common.conode_node() as node:
        url = node.run(
            "post", "create", "ben", "--kind", "blog", "--title", "Picnic", "--body", "Hi."
        ).strip()
        public_id = url.rstrip("/").rsplit("/", 1)[1]
        for n in range(OFFERS):
            node.run(
                "post",
                "create",
                "ben",
                "--kind",
                "offer",
                "--title",
                f"Offer {n}",
                "--body",
                "Details.",
                "--hours",
                "1",
            )
        seed.seed_posts(node.database_url, "ben", 20)
        figures = asyncio.run(_measure(node.database_url, public_id, args.calls, args.rounds))
        path = str(sqlite_path(node.database_url))
        reference = _plain_cpu(
            path, "SELECT * FROM posts WHERE public_id = ?", (public_id,), args.calls, args.rounds
        )
    return {
        "benchmark": "queries",
        "calls_per_round": args.calls,
        "rounds": args.rounds,
        **figures,
        "reference_plain_sqlite3_one_row_us": reference,
        "one_row_lookup_to_plain_sqlite3": common.ratio(
            figures["one_row_lookup_loop_cpu_us"], reference
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=8)
    common.emit(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
