"""Stampede benchmark: a post that was just published is fetched by everyone at once, as
happens when it is boosted widely (every server that sees the boost fetches the object, and
Mastodon fetches the page for its link preview). 3,000 GETs of the one post, half as
ActivityPub JSON and half as HTML, from 64 concurrent clients (two load generator processes,
32 each, with a Mastodon User-Agent), against a real `conode serve`, while a third load
generator POSTs signed replies to that post to the shared inbox, 4 at a time, so the post's
comments (and the site's content version) keep changing during the stampede.

Reports p50/p99 and errors for each kind of GET, the inbox's accepted replies per second
during the stampede and whether every reply was accepted, the server's peak RSS, and a bare
Starlette page under the same 64 clients as the reference. Prints JSON.
Usage: .venv/bin/python bench/stampede.py [--requests 3000] [--replies 600] [--profile FILE]
       [--processes N] [--worker]
Needs `.venv/bin/pip install -e '.[bench]'`.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import common
import httpx
import inbox

CLIENTS = 64
INBOX_CONCURRENCY = 4
MASTODON = "http.rb/5.2.0 (Mastodon/4.3.2; +https://mastodon.example/)"
ACTIVITY_JSON = "application/activity+json"
ERROR_FREE = {"200", "304"}


def _gets(url: str, accept: str, count: int) -> list[dict[str, Any]]:
    headers = {"Accept": accept, "User-Agent": MASTODON}
    return [{"method": "GET", "url": url, "headers": headers}] * count


def _loadgen(path: Path, concurrency: int, rss_of: int | None = None) -> subprocess.Popen[str]:
    command = [*common.LOADGEN, str(path), "--concurrency", str(concurrency)]
    if rss_of is not None:
        command += ["--rss-of", str(rss_of)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def _result(process: subprocess.Popen[str]) -> dict[str, Any]:
    output, _ = process.communicate(timeout=600)
    if process.returncode != 0:
        raise SystemExit("a load generator failed")
    result: dict[str, Any] = json.loads(output)
    return result


def _worker(node: common.Node) -> subprocess.Popen[bytes]:
    """A `conode worker` beside the server: `conode serve` then leaves the queues to it."""
    worker = subprocess.Popen(
        [*common.CONODE, "worker"],
        env=node.env,
        cwd=node.directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(12)  # serve sees the worker's heartbeat at its next look (every 10 s)
    return worker


def _errors(run: dict[str, Any], fine: set[str]) -> int:
    return sum(n for status, n in run["statuses"].items() if status not in fine)


def bench(args: argparse.Namespace) -> dict[str, Any]:
    half = args.requests // 2
    with tempfile.TemporaryDirectory(prefix="conode-bench-") as tmp_name:
        tmp = Path(tmp_name)
        keys, key_port, actor_id, key = inbox.remote_signer(tmp)
        bare_port = common.free_port()
        with common.served("bare", bare_port) as bare:
            bare_url = f"http://127.0.0.1:{bare_port}/page"
            path = common.write_requests(tmp / "bare.jsonl", _gets(bare_url, "text/html", half))
            reference = common.load(path, CLIENTS, rss_of=bare.pid)
        with (
            common.served("keyserver", key_port, "--keys", str(keys)),
            common.conode_node() as node,
        ):
            node.processes = args.processes
            node.start()
            assert node.process is not None
            pid = node.process.pid
            worker = _worker(node) if args.worker else None
            # A node that has served before: one earlier post's page and JSON fetched once, so
            # the first render of the new post is not also the process's first render of any
            # post page (statements compiled, code paths run: ~0.4 s on this machine, during
            # which all 64 clients would wait and make the p99)
            earlier = node.run(
                "post", "create", "ben", "--kind", "blog", "--title", "Earlier", "--body", "Hi."
            ).strip()
            for accept in ("text/html", ACTIVITY_JSON):
                httpx.get(earlier, headers={"Accept": accept}, timeout=30).raise_for_status()
            post_url = node.run(
                "post", "create", "ben", "--kind", "blog", "--title", "Picnic", "--body", "Sat."
            ).strip()
            inbox_url = f"{node.url}/inbox"
            warm = inbox.signed_requests(inbox_url, key, actor_id, post_url, 20)
            common.load(common.write_requests(tmp / "warm.jsonl", warm), INBOX_CONCURRENCY)
            replies = inbox.signed_requests(inbox_url, key, actor_id, post_url, args.replies)
            replies_path = common.write_requests(tmp / "replies.jsonl", replies)
            json_path = common.write_requests(
                tmp / "json.jsonl", _gets(post_url, ACTIVITY_JSON, half)
            )
            html_gets = _gets(post_url, "text/html", half)
            html_path = common.write_requests(tmp / "html.jsonl", html_gets)
            spy = inbox.profiled(pid, args.profile)
            before = common.cpu_seconds(pid)
            repliers = _loadgen(replies_path, INBOX_CONCURRENCY)
            as_json = _loadgen(json_path, CLIENTS // 2, rss_of=pid)
            as_html = _loadgen(html_path, CLIENTS // 2)
            json_run, html_run = _result(as_json), _result(as_html)
            spent = common.cpu_seconds(pid) - before
            replies_run = _result(repliers)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=60)
            after = node.process.poll() is None and common.answers(f"{post_url}")
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=20)
    stampede_seconds = max(json_run["seconds"], html_run["seconds"])
    gets = json_run["requests"] + html_run["requests"]
    accepted = replies_run["statuses"].get("202", 0)
    p99 = max(json_run["p99_ms"], html_run["p99_ms"])
    errors = _errors(json_run, ERROR_FREE) + _errors(html_run, ERROR_FREE)
    return {
        "benchmark": "stampede",
        "clients": CLIENTS,
        "web_processes": args.processes,
        "conode_worker": args.worker,
        "gets": gets,
        "gets_per_second": round(gets / stampede_seconds, 1),
        "activity_json": {k: json_run[k] for k in ("per_second", "p50_ms", "p99_ms", "statuses")},
        "html": {k: html_run[k] for k in ("per_second", "p50_ms", "p99_ms", "statuses")},
        "errors": errors,
        "p99_ms": p99,
        "server_cpu_ms_per_get": round(1000 * spent / max(gets, 1), 3),
        "peak_rss_mb": json_run["peak_rss_mb"],
        "inbox_replies_sent": args.replies,
        "inbox_replies_accepted": accepted,
        "inbox_accepted_per_second": round(accepted / replies_run["seconds"], 1),
        "inbox_p99_ms": replies_run["p99_ms"],
        "inbox_kept_accepting": accepted == args.replies,
        "server_still_answering": after,
        "reference_bare_starlette_per_second": reference["per_second"],
        "reference_bare_starlette_p99_ms": reference["p99_ms"],
        "ratio_to_bare": common.ratio(gets / stampede_seconds, reference["per_second"]),
        "target": "0 errors; p99 < 250 ms; inbox still accepting; RSS < 200 MB",
        "met": errors == 0 and p99 < 250 and accepted == args.replies,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="GETs of the post")
    parser.add_argument("--replies", type=int, default=600, help="signed replies POSTed meanwhile")
    parser.add_argument("--profile", help="write a py-spy profile of the stampede here")
    parser.add_argument("--processes", type=int, default=1, help="conode serve --processes N")
    parser.add_argument("--worker", action="store_true", help="run a `conode worker` beside it")
    common.emit(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
