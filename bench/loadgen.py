"""The load generator: replays a file of prepared requests (one JSON object a line: method,
url, headers, body) over keep-alive connections, `--concurrency` at a time, and prints JSON:
requests/s, status counts ("0": no answer), latency percentiles and, with `--rss-of PID`,
that process's peak resident memory while the load ran. A separate process, so it never
shares the server's CPU time slice; aiohttp because httpx itself tops out below the rates
measured here."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, int(fraction * len(sorted_values)))
    return sorted_values[index]


async def _worker(
    session: aiohttp.ClientSession,
    queue: list[dict[str, Any]],
    latencies: list[float],
    statuses: Counter[int],
) -> None:
    while queue:
        request = queue.pop()
        body = request.get("body")
        started = time.perf_counter()
        try:
            async with session.request(
                request["method"],
                request["url"],
                headers=request.get("headers", {}),
                data=body.encode() if body is not None else None,
            ) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError):
            statuses[0] += 1  # no answer: reported as status "0"
            continue
        latencies.append(time.perf_counter() - started)
        statuses[response.status] += 1


async def _watch_rss(pid: int, peak: list[int], stop: asyncio.Event) -> None:
    import psutil

    process = psutil.Process(pid)
    while not stop.is_set():
        rss = sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
        peak[0] = max(peak[0], rss)
        await asyncio.sleep(0.1)


async def run(
    requests: list[dict[str, Any]], concurrency: int, rss_of: int | None
) -> dict[str, Any]:
    queue = requests[::-1]  # pop() from the end keeps the file's order
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    peak = [0]
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch_rss(rss_of, peak, stop)) if rss_of else None
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(
            *(_worker(session, queue, latencies, statuses) for _ in range(concurrency))
        )
        elapsed = time.perf_counter() - started
    stop.set()
    if watcher:
        await watcher
    latencies.sort()
    result: dict[str, Any] = {
        "requests": len(latencies),
        "seconds": round(elapsed, 3),
        "per_second": round(len(latencies) / elapsed, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }
    if rss_of:
        result["peak_rss_mb"] = round(peak[0] / 2**20, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("requests", type=Path, help="file of prepared requests, one JSON a line")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rss-of", type=int, help="a server PID whose peak RSS to report")
    args = parser.parse_args()
    lines = args.requests.read_text().splitlines()
    requests = [json.loads(line) for line in lines if line]
    print(json.dumps(asyncio.run(run(requests, args.concurrency, args.rss_of))))


if __name__ == "__main__":
    main()
