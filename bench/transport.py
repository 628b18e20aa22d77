"""Delivery transports compared: the same signed POSTs (one RSA-2048 signature each, as a
delivery makes) sent 16 at a time to the fast sink on 16 loopback hosts through (a) conode's
fetch client (httpx, its guarded transport, the per-host limit), (b) httpx's default transport,
(c) httpx over aiohttp (httpx-aiohttp), (d) aiohttp directly and (e) conode's Deliverer (aiohttp
with the guard, the per-host limit and the answer handling: what deliveries use). Prints
deliveries/s each, beside the signing rate alone.
Usage: .venv/bin/python bench/transport.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import common
import httpx
import seed
from fanout import sign_rate
from httpx_aiohttp import AiohttpTransport

from activitypub.aiohttp_transport import Deliverer
from activitypub.auth import HttpSignatureAuth
from activitypub.client import FetchPolicy, make_client
from activitypub.keys import PrivateKey, generate_private_pem
from activitypub.signatures import sign_request

BODY = b'{"type":"Create","id":"https://conode.example/a/1","actor":"https://conode.example/u/b"}'
CONCURRENCY = 16

Send = Callable[[str], Awaitable[int]]


async def _timed(send: Send, urls: list[str]) -> float:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(url: str) -> None:
        async with gate:
            status = await send(url)
            assert status == 202, status

    started = time.perf_counter()
    await asyncio.gather(*(one(url) for url in urls))
    return len(urls) / (time.perf_counter() - started)


def _httpx_sender(client: httpx.AsyncClient, key: PrivateKey) -> Send:
    auth = HttpSignatureAuth(key)

    async def send(url: str) -> int:
        response = await client.post(url, content=BODY, auth=auth)
        return response.status_code

    return send


async def measure(urls: list[str], key: PrivateKey) -> dict[str, Any]:
    results: dict[str, Any] = {}
    async with make_client(FetchPolicy(allow_private_networks=True), user_agent="bench") as c:
        results["conode_client_httpx_guarded"] = await _timed(_httpx_sender(c, key), urls)
    async with httpx.AsyncClient() as c:
        results["httpx_default_transport"] = await _timed(_httpx_sender(c, key), urls)
    async with httpx.AsyncClient(transport=AiohttpTransport()) as c:
        results["httpx_over_aiohttp"] = await _timed(_httpx_sender(c, key), urls)
    async with aiohttp.ClientSession() as session:

        async def send(url: str) -> int:
            headers = sign_request("POST", url, {}, BODY, key)
            async with session.post(url, data=BODY, headers=headers) as response:
                await response.read()
                return response.status

        results["aiohttp_direct"] = await _timed(send, urls)
    policy = FetchPolicy(allow_private_networks=True)
    async with Deliverer(policy, user_agent="bench") as deliverer:

        async def deliver(url: str) -> int:
            return (await deliverer.deliver(url, BODY, key)).status or 0

        results["conode_deliverer_aiohttp"] = await _timed(deliver, urls)
    return {name: round(rate, 1) for name, rate in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    key = PrivateKey(key_id="https://conode.example/u/b#main-key", pem=generate_private_pem())
    port = common.free_port()
    urls = [seed.inbox_url(port, n % 1000) for n in range(args.requests)]
    with common.served("sink", port):
        runs = [asyncio.run(measure(urls, key)) for _ in range(args.runs)]
    best = {name: max(run[name] for run in runs) for name in runs[0]}
    signing = sign_rate()
    common.emit(
        {
            "benchmark": "transport",
            "reference_rsa2048_sign_per_second": round(signing, 1),
            "deliveries_per_second": best,
            "ratio_to_signing": {name: common.ratio(rate, signing) for name, rate in best.items()},
            "runs": runs,
        }
    )


if __name__ == "__main__":
    main()
