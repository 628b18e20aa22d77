"""`conode demo` fills an empty node, through the installed command, and only an empty one."""

from __future__ import annotations

import json

from .test_cli import conode, env  # noqa: F401  (env is a fixture)


def test_demo_fills_an_empty_node_once(env: dict[str, str]) -> None:  # noqa: F811
    assert conode(env, "init").returncode == 0
    first = conode(env, "demo")
    assert first.returncode == 0, first.stderr
    assert "created post http://127.0.0.1:8000/posts/" in first.stdout
    users = json.loads(conode(env, "user", "list", "--json").stdout)
    assert {u["username"] for u in users} >= {"rosa", "tom", "lena"}
    comments = json.loads(conode(env, "comments", "list", "--status", "all", "--json").stdout)
    statuses = sorted(c["status"] for c in comments)
    assert statuses.count("pending") == 1 and statuses.count("approved") == 4
    board = json.loads(conode(env, "offers", "list", "--json").stdout)
    assert sorted(item["kind"] for item in board) == ["offer", "offer", "request"]
    assert all(item["status"] == "open" and item["hours"] for item in board)
    again = conode(env, "demo")
    assert again.returncode == 2
    assert "only fills an empty node" in again.stderr
