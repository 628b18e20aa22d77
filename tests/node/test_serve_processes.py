"""`conode serve --processes N`: N web processes on one port, each with its own app and caches,
sharing only the database, so a page kept by one is replaced when another changes it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from ..processes import CONODE, conode, initialised_node, wait_until


def _children(pid: int) -> list[int]:
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(line) for line in found.stdout.split()]


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_two_web_processes_serve_one_port_and_agree(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    with initialised_node(tmp_path, "ben") as node:
        post_url = node.ok(
            "post", "create", "ben", "--kind", "blog", "--title", "Picnic", "--body", "Food."
        ).strip()
        port = node.url.rsplit(":", 1)[1]
        log = (tmp_path / "serve.log").open("wb")
        server = subprocess.Popen(
            [*CONODE, "serve", "--port", port, "--processes", "2"],
            env=node.env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: _answers(f"{node.url}/.well-known/nodeinfo"), "serve")
            wait_until(lambda: len(_children(server.pid)) >= 2, "two web processes")
            with httpx.Client(headers={"Accept": "text/html"}) as client:
                # New connections are spread over the processes: each keeps its own copy.
                for _ in range(10):
                    page = client.get(post_url, headers={"Connection": "close"})
                    assert page.status_code == 200 and "Picnic" in page.text
                node.ok("post", "edit", post_url, "--title", "Picnic on Sunday")
                for _ in range(10):
                    page = client.get(post_url, headers={"Connection": "close"})
                    assert "Picnic on Sunday" in page.text
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
        output = (tmp_path / "serve.log").read_text(errors="replace")
        assert output.count("Started server process") == 2, output


def test_a_process_count_out_of_range_is_refused_with_a_sentence(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    with initialised_node(tmp_path, "ben") as node:
        result = conode(node.env, "serve", "--processes", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert "0 processes: give a number in 1-64" in result.stderr
    assert "Traceback" not in result.stderr
