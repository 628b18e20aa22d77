"""Fan-out benchmark: one post by a member with F followers on M shared inboxes (a fast sink on
127.0.0.1-16, bench/sink.py), delivered by W `conode worker` processes. Reports deliveries/s
(sink arrivals, first to last) and per worker, beside the RSA-2048 signing rate on one core
measured in the same run. Cases: 10,000 followers on 1,000 inboxes against 1,000 on 1,000
(cost should follow inboxes, not followers; each is run twice, in turn, and the faster run
counts) on SQLite, with the default signing thread beside each worker's loop and with signing on
the loop (CONODE_SIGNING_THREADS=0: one core per worker), and 1 vs 2 workers on PostgreSQL both
ways when --postgres-url is given (an admin URL; a scratch database is created and dropped).
--profile DIR records each worker with py-spy (raw collapsed stacks, one file per worker and
case; read figures from a run without it).
Usage: .venv/bin/python bench/fanout.py [--postgres-url postgresql://postgres@127.0.0.1/test]
Needs `.venv/bin/pip install -e '.[bench]'`.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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


def _arrivals(sink: httpx.Client) -> int:
    """Polled five times a second: one GET on a kept connection, where opening the database
    each time (a PostgreSQL backend forked per poll) took CPU from the two cores measured."""
    return int(sink.get("/stats").json()["count"])


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


def _postgres_cpu() -> dict[int, float]:
    """CPU seconds of each process named postgres on this machine (the server's backends)."""
    seconds = {}
    for process in psutil.process_iter(["name"]):
        if process.info["name"] == "postgres":
            try:
                times = process.cpu_times()
            except psutil.Error:  # a backend that ended meanwhile
                continue
            seconds[process.pid] = times.user + times.system
    return seconds


def _postgres_cpu_since(before: dict[int, float]) -> float:
    """Per process, so backends that end meanwhile take nothing off the sum."""
    return sum(now - before.get(pid, 0.0) for pid, now in _postgres_cpu().items())


def _cpu_since(pid: int | None, before: Any) -> float:
    if pid is None or before is None:
        return 0.0
    now = psutil.Process(pid).cpu_times()
    return float(now.user + now.system - before.user - before.system)


@contextmanager
def profiled(
    processes: list[subprocess.Popen[bytes]], name: str, into: Path | None
) -> Iterator[None]:
    """py-spy on each worker while the block runs; SIGINT makes it write its file."""
    spy = str(Path(common.PYTHON).parent / "py-spy")  # the bench extra installs it
    spies = [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(process.pid),
                "--format",
                "raw",
                "--rate",
                "200",
                "--nonblocking",  # sampling without pausing the worker: it slowed it 3x
                "--output",
                str(into / f"{name}-worker{n}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n, process in enumerate(processes)
        if into is not None
    ]
    try:
        yield
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)


def case(
    sink_port: int,
    followers: int,
    inboxes: int,
    workers: int,
    pg: str | None,
    profile: Path | None = None,
    sink_pid: int | None = None,
    signing_threads: int = 1,
) -> dict[str, Any]:
    sink = f"http://127.0.0.1:{sink_port}"
    threads = {"CONODE_SIGNING_THREADS": str(signing_threads)}
    with (
        scratch_postgres(pg) as database_url,
        common.conode_node(database_url, **threads) as node,
        httpx.Client(base_url=sink) as sink_client,
    ):
        seed.seed_followers(node.database_url, "ben", followers, inboxes, sink_port)
        sink_client.post("/reset")
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
        peak, cpu = 0, {process.pid: 0.0 for process in processes}
        sink_cpu = psutil.Process(sink_pid).cpu_times() if sink_pid else None
        postgres_before = _postgres_cpu() if pg else {}
        postgres_seconds = 0.0
        database = "postgresql" if pg else "sqlite"
        name = f"{database}-{followers}on{inboxes}-{workers}w-{signing_threads}t"
        try:
            with profiled(processes, name, profile):
                while _arrivals(sink_client) < inboxes:
                    rss = sum(psutil.Process(p.pid).memory_info().rss for p in processes)
                    peak = max(peak, rss)
                    for p in processes:
                        times = psutil.Process(p.pid).cpu_times()
                        cpu[p.pid] = times.user + times.system
                    if pg:  # sampled while the workers' backends live
                        postgres_seconds = _postgres_cpu_since(postgres_before)
                    if time.time() - started > 300:
                        raise SystemExit("fan-out did not finish in 5 minutes")
                    time.sleep(0.2)
                while asyncio.run(_delivered(node.database_url)) < inboxes:  # and recorded
                    time.sleep(0.2)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=20)
        stats = httpx.get(f"{sink}/stats").json()
        sink_seconds = _cpu_since(sink_pid, sink_cpu)
    span = max(stats["last"] - stats["first"], 1e-6)
    rate = stats["count"] / span
    return {
        "database": database,
        "followers": followers,
        "inboxes": inboxes,
        "workers": workers,
        "signing_threads_per_worker": signing_threads,
        "arrivals": stats["count"],
        "seconds_first_to_last": round(span, 3),
        "deliveries_per_second": round(rate, 1),
        "deliveries_per_second_per_worker": round(rate / workers, 1),
        "seconds_from_worker_start": round(stats["last"] - started, 3),
        "peak_worker_rss_mb": round(peak / 2**20, 1),
        # CPU seconds (user + system) from start to the last sample: what the 2 cores went to
        "worker_cpu_seconds": [round(seconds, 2) for seconds in cpu.values()],
        "sink_cpu_seconds": round(sink_seconds, 2),
        "postgres_cpu_seconds": round(postgres_seconds, 2),  # all of the server's processes
        "arrivals_per_quarter_second": stats["quarters"],
    }


def _faster(*runs: dict[str, Any]) -> dict[str, Any]:
    return min(runs, key=lambda run: run["seconds_first_to_last"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", help="admin URL for the two-worker PostgreSQL cases")
    parser.add_argument("--inboxes", type=int, default=1000)
    parser.add_argument("--profile", type=Path, help="directory for py-spy profiles")
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    sink_port = common.free_port()
    signing_before = sign_rate()
    inboxes, profile = args.inboxes, args.profile
    with common.served("sink", sink_port) as sink:

        def run(
            followers: int, threads: int, workers: int = 1, pg: str | None = None
        ) -> dict[str, Any]:
            # on PostgreSQL each follower has an inbox of its own; on SQLite they share `inboxes`
            targets = followers if pg else inboxes
            return case(sink_port, followers, targets, workers, pg, profile, sink.pid, threads)

        # small, large, large, small: a machine that slows down or speeds up favours neither;
        # signing on a thread beside the loop (the default) and on the loop itself (0 threads)
        small_runs = [run(inboxes, 1), run(inboxes, 0)]
        large_runs = [run(10 * inboxes, 1), run(10 * inboxes, 1)]
        small_runs += [run(inboxes, 0), run(inboxes, 1)]
        small = _faster(small_runs[0], small_runs[3])
        on_loop = _faster(small_runs[1], small_runs[2])
        large = _faster(*large_runs)
        cases = [small, on_loop, large]
        if args.postgres_url:
            many = 4 * inboxes  # longer, so two workers' start-up matters less
            # One signing core per worker first (signing on the loop): how two workers scale
            # through the database; then the default, where one worker already uses both cores.
            for threads in (0, 1):
                for workers in (1, 2):
                    cases.append(run(many, threads, workers, args.postgres_url))
    # Measured before and after the cases; the faster counts (the machine is shared, and a
    # reference taken while it was busy would flatter the ratio).
    signing_after = sign_rate()
    signing = max(signing_before, signing_after)
    figures: dict[str, Any] = {
        "benchmark": "fanout",
        "reference_rsa2048_sign_per_second": round(signing, 1),
        "sign_per_second_before_and_after": [round(signing_before), round(signing_after)],
        "per_worker_ratio_to_signing": common.ratio(small["deliveries_per_second"], signing),
        "per_worker_ratio_to_signing_on_the_loop": common.ratio(
            on_loop["deliveries_per_second"], signing
        ),
        "10x_followers_same_inboxes_cost_ratio": common.ratio(
            large["seconds_first_to_last"], small["seconds_first_to_last"]
        ),
        "target": ">= 50% of signing rate per worker; 10,000/1,000 costs as 1,000/1,000; "
        "two workers on PostgreSQL nearly double",
        "cases": cases,
    }
    if args.postgres_url:
        rates = [case["deliveries_per_second"] for case in cases[3:]]
        figures["two_workers_speedup_postgresql"] = common.ratio(rates[1], rates[0])
        figures["two_workers_speedup_postgresql_signing_threads"] = common.ratio(rates[3], rates[2])
    common.emit(figures)


if __name__ == "__main__":
    main()
