"""Fan-out benchmark: one post by a member with F followers on M shared inboxes (a fast sink on
127.0.0.1-16, bench/sink.py), delivered by W `conode worker` processes. Reports deliveries/s
(sink arrivals, first to last) and per worker, beside the RSA-2048 signing rate on one core
measured in the same run. Cases: 10,000 followers on 1,000 inboxes against 1,000 on 1,000
(cost should follow inboxes, not followers) on SQLite, and 1 vs 2 workers on PostgreSQL when
--postgres-url is given (an admin URL; a scratch database is created and dropped).
Usage: .venv/bin/python bench/fanout.py [--postgres-url postgresql://postgres@127.0.0.1/test]
Needs `.venv/bin/pip install -e '.[bench]'`.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import common
import httpx
import psutil
import seed
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from activitypub.keys import generate_private_pem, load_private_pem
from node.storage import Store


def sign_rate(seconds: float = 1.0) -> float:
    key = load_private_pem(generate_private_pem())
    data = b"(request-target): post /inbox\nhost: example\ndate: now\ndigest: x"
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        count += 1
    return count / (time.perf_counter() - started)


async def _delivered(database_url: str) -> int:
    store = Store(database_url)
    await store.connect()
    try:
        return await store.count_deliveries("delivered")
    finally:
        await store.disconnect()


@contextmanager
def scratch_postgres(admin: str | None) -> Iterator[str | None]:
    if admin is None:
        yield None
        return
    name = f"conode_bench_{uuid.uuid4().hex[:10]}"

    async def run(statement: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run(f"CREATE DATABASE {name}"))
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def case(
    sink_port: int, followers: int, inboxes: int, workers: int, pg: str | None
) -> dict[str, Any]:
    sink = f"http://127.0.0.1:{sink_port}"
    with scratch_postgres(pg) as database_url, common.conode_node(database_url) as node:
        seed.seed_followers(node.database_url, "ben", followers, inboxes, sink_port)
        httpx.post(f"{sink}/reset")
        node.run("post", "create", "ben", "--kind", "blog", "--title", "Fan-out", "--body", "Hi.")
        started = time.time()
        processes = [
            subprocess.Popen(
                [*common.CONODE, "worker"],
                env=node.env,
                cwd=node.directory,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        peak = 0
        try:
            while asyncio.run(_delivered(node.database_url)) < inboxes:
                rss = sum(psutil.Process(p.pid).memory_info().rss for p in processes)
                peak = max(peak, rss)
                if time.time() - started > 300:
                    raise SystemExit("fan-out did not finish in 5 minutes")
                time.sleep(0.2)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=20)
        stats = httpx.get(f"{sink}/stats").json()
    span = max(stats["last"] - stats["first"], 1e-6)
    rate = stats["count"] / span
    return {
        "database": "postgresql" if pg else "sqlite",
        "followers": followers,
        "inboxes": inboxes,
        "workers": workers,
        "arrivals": stats["count"],
        "seconds_first_to_last": round(span, 3),
        "deliveries_per_second": round(rate, 1),
        "deliveries_per_second_per_worker": round(rate / workers, 1),
        "seconds_from_worker_start": round(stats["last"] - started, 3),
        "peak_worker_rss_mb": round(peak / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", help="admin URL for the two-worker PostgreSQL cases")
    parser.add_argument("--inboxes", type=int, default=1000)
    args = parser.parse_args()
    sink_port = common.free_port()
    cases = []
    with common.served("sink", sink_port):
        cases.append(case(sink_port, args.inboxes, args.inboxes, 1, None))
        cases.append(case(sink_port, 10 * args.inboxes, args.inboxes, 1, None))
        if args.postgres_url:
            many = 4 * args.inboxes  # longer, so two workers' start-up matters less
            cases.append(case(sink_port, many, many, 1, args.postgres_url))
            cases.append(case(sink_port, many, many, 2, args.postgres_url))
    signing = sign_rate()
    small, large = cases[0], cases[1]
    figures: dict[str, Any] = {
        "benchmark": "fanout",
        "reference_rsa2048_sign_per_second": round(signing, 1),
        "per_worker_ratio_to_signing": common.ratio(small["deliveries_per_second"], signing),
        "10x_followers_same_inboxes_cost_ratio": common.ratio(
            large["seconds_first_to_last"], small["seconds_first_to_last"]
        ),
        "target": ">= 50% of signing rate per worker; 10,000/1,000 costs as 1,000/1,000; "
        "two workers on PostgreSQL nearly double",
        "cases": cases,
    }
    if args.postgres_url:
        figures["two_workers_speedup_postgresql"] = common.ratio(
            cases[3]["deliveries_per_second"], cases[2]["deliveries_per_second"]
        )
    common.emit(figures)


if __name__ == "__main__":
    main()
