"""Pages benchmark: a post page with 200 approved comments, the home page and the post as
ActivityPub JSON (what other servers fetch), GET by the load
generator (another process, keep-alive, 16 concurrent, a browser's User-Agent so every GET
counts as a view) from a real `conode serve`, beside a bare Starlette page in the same run;
then the same on a grown node (100,000 comments on other posts and 50,000 followers,
bulk-inserted) to show size does not slow pages down. Both nodes have enough posts to fill the
home page, so the two home pages show as much. Reports req/s, p50/p99 and the server's peak
resident memory. Prints JSON.
Usage: .venv/bin/python bench/pages.py [--requests 3000] [--no-growth] [--processes N]
Needs `.venv/bin/pip install -e '.[bench]'`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

import common
import seed

from node.storage import Store

CONCURRENCY = 16
COMMENTS = 200
GROWN_COMMENTS = 100_000
GROWN_FOLLOWERS = 50_000
HOME_POSTS = 20  # what the home page lists
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


async def _post_row_id(database_url: str, post_url: str) -> int:
    store = Store(database_url)
    await store.connect()
    try:
        post = await store.post(post_url.rstrip("/").rsplit("/", 1)[1])
        assert post is not None and post.id is not None
        return post.id
    finally:
        await store.disconnect()


def _publish(node: common.Node, title: str, comments: int) -> str:
    url = node.run("post", "create", "ben", "--kind", "blog", "--title", title, "--body", "Hi.")
    url = url.strip()
    if comments:
        seed.seed_comments(
            node.database_url, asyncio.run(_post_row_id(node.database_url, url)), url, comments
        )
    return url


def _gets(url: str, count: int, accept: str = "text/html") -> list[dict[str, Any]]:
    headers = {"Accept": accept, "User-Agent": BROWSER}
    return [{"method": "GET", "url": url, "headers": headers}] * count


AS_JSON = "application/activity+json"
PAGES = {"post_page": "text/html", "home_page": "text/html", "post_json": AS_JSON}


def _measure(
    node: common.Node, post_url: str, tmp: Path, requests: int, runs: int
) -> dict[str, Any]:
    assert node.process is not None
    figures: dict[str, Any] = {}
    urls = {"post_page": post_url, "home_page": f"{node.url}/", "post_json": post_url}
    for name, url in urls.items():
        path = common.write_requests(tmp / f"{name}.jsonl", _gets(url, requests, PAGES[name]))
        warm = _gets(url, 50, PAGES[name])
        common.load(common.write_requests(tmp / "warm.jsonl", warm), CONCURRENCY)
        results = [common.load(path, CONCURRENCY, rss_of=node.process.pid) for _ in range(runs)]
        figures[name] = common.best(results, "per_second") | {"runs": results}
    return figures


def bench(args: argparse.Namespace) -> dict[str, Any]:
    bare_port = common.free_port()
    with tempfile.TemporaryDirectory(prefix="conode-bench-") as tmp_name:
        tmp = Path(tmp_name)
        with common.served("bare", bare_port):
            path = common.write_requests(
                tmp / "bare.jsonl", _gets(f"http://127.0.0.1:{bare_port}/page", args.requests)
            )
            bare = [common.load(path, CONCURRENCY) for _ in range(args.runs)]
            json_gets = _gets(f"http://127.0.0.1:{bare_port}/object", args.requests, AS_JSON)
            path = common.write_requests(tmp / "bare-json.jsonl", json_gets)
            bare_json = [common.load(path, CONCURRENCY) for _ in range(args.runs)]
        reference = common.best(bare, "per_second")
        json_reference = common.best(bare_json, "per_second")
        cases: dict[str, Any] = {}
        with common.conode_node() as node:
            seed.seed_posts(node.database_url, "ben", HOME_POSTS - 1)
            post_url = _publish(node, "Picnic on Saturday", COMMENTS)
            node.processes = args.processes
            node.start()
            cases["small_node"] = _measure(node, post_url, tmp, args.requests, args.runs)
            if args.growth:
                node.stop()
                for n in range(10):
                    _publish(node, f"Older post {n}", GROWN_COMMENTS // 10)
                seed.seed_followers(node.database_url, "ben", GROWN_FOLLOWERS, 5000, 9)
                node.start()
                cases["grown_node"] = _measure(node, post_url, tmp, args.requests, args.runs)
    figures: dict[str, Any] = {
        "benchmark": "pages",
        "concurrency": CONCURRENCY,
        "web_processes": args.processes,
        "comments_on_the_post": COMMENTS,
        "reference_bare_starlette_per_second": reference["per_second"],
        "reference_bare_starlette_p99_ms": reference["p99_ms"],
        "reference_bare_starlette_json_per_second": json_reference["per_second"],
        "target": ">= 10% of bare Starlette's rate, p99 < 100 ms (post JSON: >= 25% of a bare "
        "JSON endpoint), RSS < 200 MB; a grown node as fast as a small one",
    }
    for case, pages in cases.items():
        for page, run in pages.items():
            figures[f"{case}_{page}_per_second"] = run["per_second"]
            figures[f"{case}_{page}_p99_ms"] = run["p99_ms"]
            bare_rate = (json_reference if page == "post_json" else reference)["per_second"]
            figures[f"{case}_{page}_ratio_to_bare"] = common.ratio(run["per_second"], bare_rate)
            figures[f"{case}_{page}_peak_rss_mb"] = run["peak_rss_mb"]
            figures[f"{case}_{page}_server_cpu_ms_per_request"] = min(
                r["server_cpu_ms_per_request"] for r in run["runs"]
            )
    if "grown_node" in cases:
        for page in PAGES:
            figures[f"grown_to_small_{page}_rate_ratio"] = common.ratio(
                cases["grown_node"][page]["per_second"], cases["small_node"][page]["per_second"]
            )
    figures["cases"] = cases
    figures["reference_runs"] = bare
    figures["reference_json_runs"] = bare_json
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--no-growth", dest="growth", action="store_false")
    parser.add_argument("--processes", type=int, default=1, help="conode serve --processes N")
    common.emit(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
