"""Inbox benchmark: signed Mastodon-shaped reply Creates, pre-signed, POSTed by the load
generator (another process, keep-alive, 32 concurrent) to a real `conode serve`; the signer's
actor is served by bench/keyserver.py, so its key is fetched once and then cached.

References measured in the same run, on the same requests: the lean pipeline of
bench/lean_inbox.py (verify, parse, sanitise, insert into SQLite: the target is 0.75 of it),
a bare Starlette endpoint that only reads the body, and RSA-2048 verifications per second on
one core. Prints JSON.
Usage: .venv/bin/python bench/inbox.py [--requests 6000] [--runs 3] [--database-url URL]
       [--profile FILE]  (py-spy samples `conode serve` during the first run: .svg or raw text)
       [--personal]  (POST to a member's own inbox instead of the shared one)
Needs `.venv/bin/pip install -e '.[bench]'` (aiohttp, psutil).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import common
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from activitypub.keys import PrivateKey, generate_private_pem, load_private_pem
from activitypub.signatures import sign_request
from node.storage import Store

CONCURRENCY = 32


def verify_rate(seconds: float = 1.0) -> float:
    """RSA-2048 PKCS#1 v1.5 SHA-256 verifications per second, on this core."""
    key = load_private_pem(generate_private_pem())
    data = b"(request-target): post /inbox\nhost: example\ndate: now\ndigest: x"
    signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    public = key.public_key()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        count += 1
    return count / (time.perf_counter() - started)


def reply(actor_id: str, in_reply_to: str) -> dict[str, Any]:
    note_id = f"{actor_id}/statuses/{uuid.uuid4().hex}"
    public = "https://www.w3.org/ns/activitystreams#Public"
    return {
        "@context": ["https://www.w3.org/ns/activitystreams"],
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": actor_id,
        "published": datetime.now(UTC).isoformat(),
        "to": [public],
        "cc": [f"{actor_id}/followers"],
        "object": {
            "id": note_id,
            "type": "Note",
            "attributedTo": actor_id,
            "inReplyTo": in_reply_to,
            "content": '<p>Count me in for Saturday. <a href="https://example.org">map</a></p>',
            "to": [public],
            "cc": [f"{actor_id}/followers"],
        },
    }


def signed_requests(
    inbox_url: str, key: PrivateKey, actor_id: str, post_url: str, count: int
) -> list[dict[str, Any]]:
    requests = []
    for _ in range(count):
        body = json.dumps(reply(actor_id, post_url))
        headers = {"Content-Type": "application/activity+json"}
        headers |= sign_request("POST", inbox_url, headers, body.encode(), key)
        requests.append({"method": "POST", "url": inbox_url, "headers": headers, "body": body})
    return requests


def at(requests: list[dict[str, Any]], port: int, path: str | None = None) -> list[dict[str, Any]]:
    """The same signed requests sent to another server on `port` (their Host header, which
    the signature covers, is unchanged), at another `path` if given."""
    moved = []
    for request in requests:
        parts = urlsplit(request["url"])
        url = f"http://127.0.0.1:{port}{path or parts.path}"
        moved.append(request | {"url": url})
    return moved


async def stored(database_url: str) -> int:
    store = Store(database_url)
    await store.connect()
    try:
        return sum([await store.count_inbound(s) for s in ("queued", "done", "failed")])
    finally:
        await store.disconnect()


def profiled(pid: int, path: str | None) -> subprocess.Popen[bytes] | None:
    """py-spy sampling `pid` into `path` (a flame graph, or collapsed stacks unless .svg)."""
    if path is None:
        return None
    kind = "flamegraph" if path.endswith(".svg") else "raw"
    command = [str(Path(common.PYTHON).parent / "py-spy"), "record", "--pid", str(pid)]
    command += ["--format", kind, "-o", path, "--rate", "50"]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy attaches before the load starts
    return spy


def remote_signer(directory: Path) -> tuple[Path, int, str, PrivateKey]:
    """A remote actor, alice, for bench/keyserver.py to serve: (its keys directory, the key
    server's port, alice's actor id, her private key)."""
    keys = directory / "keys"
    keys.mkdir()
    pem = generate_private_pem()
    (keys / "alice.pem").write_text(pem)
    key_port = common.free_port()
    actor_id = f"http://127.0.0.1:{key_port}/users/alice"
    return keys, key_port, actor_id, PrivateKey(key_id=f"{actor_id}#main-key", pem=pem)


def bench(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="conode-bench-") as tmp:
        keys, key_port, actor_id, key = remote_signer(Path(tmp))
        bare_port, lean_port = common.free_port(), common.free_port()
        lean_db = Path(tmp) / "lean.db"
        with (
            common.served("keyserver", key_port, "--keys", str(keys)),
            common.served("bare", bare_port) as bare,
            common.served(
                "lean_inbox", lean_port, "--database", str(lean_db), log=Path(tmp) / "lean.log"
            ) as lean,
            common.conode_node(args.database_url) as node,
        ):
            node.start()
            assert node.process is not None
            post_url = node.run(
                "post", "create", "ben", "--kind", "blog", "--title", "Picnic", "--body", "Sat."
            ).strip()
            inbox = f"{node.url}/users/ben/inbox" if args.personal else f"{node.url}/inbox"
            warm = signed_requests(inbox, key, actor_id, post_url, 200)
            # each server fetches the signer's key here and keeps it
            common.load(common.write_requests(Path(tmp) / "warm.jsonl", warm), CONCURRENCY)
            lean_warm = common.write_requests(Path(tmp) / "lean-warm.jsonl", at(warm, lean_port))
            common.load(lean_warm, CONCURRENCY)
            runs, references, leans = [], [], []
            for number in range(args.runs):
                requests = signed_requests(inbox, key, actor_id, post_url, args.requests)
                path = common.write_requests(Path(tmp) / f"run{number}.jsonl", requests)
                spy = profiled(node.process.pid, args.profile if number == 0 else None)
                runs.append(common.load(path, CONCURRENCY, rss_of=node.process.pid))
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(timeout=60)
                bare_path = Path(tmp) / f"bare{number}.jsonl"
                common.write_requests(bare_path, at(requests, bare_port, "/inbox"))
                references.append(common.load(bare_path, CONCURRENCY, rss_of=bare.pid))
                lean_path = common.write_requests(
                    Path(tmp) / f"lean{number}.jsonl", at(requests, lean_port)
                )
                leans.append(common.load(lean_path, CONCURRENCY, rss_of=lean.pid))
            node.stop()  # then no row moves between statuses while they are counted
            total = asyncio.run(stored(node.database_url))
    verify = verify_rate()
    run = common.best(runs, "per_second")
    reference = common.best(references, "per_second")
    lean_run = max(leans, key=lambda each: each["statuses"].get("202", 0) / each["seconds"])
    accepted = run["statuses"].get("202", 0) / run["seconds"]
    lean_accepted = lean_run["statuses"].get("202", 0) / lean_run["seconds"]
    return {
        "benchmark": "inbox",
        "database": "postgresql" if args.database_url else "sqlite",
        "inbox": "personal (/users/ben/inbox)" if args.personal else "shared (/inbox)",
        "concurrency": CONCURRENCY,
        "accepted_per_second": round(accepted, 1),
        "p50_ms": run["p50_ms"],
        "p99_ms": run["p99_ms"],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "server_cpu_ms_per_request": min(r["server_cpu_ms_per_request"] for r in runs),
        "reference_bare_starlette_cpu_ms_per_request": min(
            r["server_cpu_ms_per_request"] for r in references
        ),
        "reference_lean_pipeline_accepted_per_second": round(lean_accepted, 1),
        "reference_lean_pipeline_p99_ms": lean_run["p99_ms"],
        "reference_lean_pipeline_cpu_ms_per_request": min(
            r["server_cpu_ms_per_request"] for r in leans
        ),
        "ratio_to_lean_pipeline": common.ratio(accepted, lean_accepted),
        "stored_activities": total,
        "sent_activities": 200 + args.runs * args.requests,
        "reference_rsa2048_verify_per_second": round(verify, 1),
        "reference_bare_starlette_per_second": reference["per_second"],
        "reference_bare_starlette_p99_ms": reference["p99_ms"],
        "ratio_to_verify": common.ratio(accepted, verify),
        "ratio_to_bare_starlette": common.ratio(accepted, reference["per_second"]),
        "target": ">= 0.75 of the lean pipeline's accepted/s, p99 < 50 ms",
        "runs": runs,
        "reference_runs": references,
        "lean_pipeline_runs": leans,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=6000, help="activities per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", help="a PostgreSQL database to use instead of SQLite")
    parser.add_argument("--profile", help="write a py-spy profile of the first run here")
    parser.add_argument("--personal", action="store_true", help="a member's inbox, not /inbox")
    common.emit(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
