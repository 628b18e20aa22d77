"""Two real nodes talking ActivityPub over real HTTP on loopback ports, driven only through the
`conode` command, as two operators would drive them.

Node A has the member ann, node B the member ben. Each node has its own database, keys and
`conode serve` process (which runs the delivery worker in-process); nothing is stepped by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ..processes import (
    ServedNode,
    printed_on_failure,
    serving_nodes,
    wait_until,
)


@dataclass
class TwoNodes:
    a: ServedNode
    b: ServedNode

    def explain(self) -> str:
        return f"{self.a.output()}\n{self.b.output()}"


@pytest.fixture
def two_nodes(tmp_path: Path) -> Iterator[TwoNodes]:
    """Nodes A (member ann) and B (member ben), initialised and serving on 127.0.0.1."""
    with serving_nodes(tmp_path, ("a", "ann"), ("b", "ben")) as (a, b):
        yield TwoNodes(a, b)


def _inbound(node: ServedNode, type_: str, actor_id: str) -> list[dict[str, Any]]:
    entries = node.json("log", "--inbound")
    return [e for e in entries if e["type"] == type_ and e["actor_id"] == actor_id]


def test_a_member_follows_a_remote_member_receives_a_post_and_the_reply_is_moderated(
    two_nodes: TwoNodes,
) -> None:
    a, b = two_nodes.a, two_nodes.b
    ann_id, ben_id = f"{a.url}/users/ann", f"{b.url}/users/ben"
    explain = two_nodes.explain

    with printed_on_failure(a, b):
        # Given ann on A follows ben on B by his handle (WebFinger over http on loopback)
        followed = a.ok("follow", "ann", f"@ben@{b.host}")
        assert ben_id in followed

        # Then B lists one follower for ben and A logs B's Accept as accepted
        def ben_followers() -> int | None:
            response = b.get("/users/ben/followers", activity_json=True)
            total = response.json()["totalItems"] if response.status_code == 200 else 0
            return total if total == 1 else None

        wait_until(ben_followers, "B to count ann as ben's follower", explain=explain)
        (accept,) = wait_until(
            lambda: _inbound(a, "Accept", ben_id) or None, "A to log B's Accept", explain=explain
        )
        assert accept["outcome"] == "accepted", accept
        assert accept["reason"] == "our follow was accepted"

        # When ben publishes a report on B
        post_id = b.ok(
            "post", "create", "ben", "--kind", "report",
            "--title", "Canal path cleared",
            "--body", "Twelve of us cleared the canal path on Saturday.",
        ).strip()  # fmt: skip
        assert post_id.startswith(f"{b.url}/posts/")

        # Then A receives it as a post from an account its member follows
        (create,) = wait_until(
            lambda: _inbound(a, "Create", ben_id) or None,
            "A to receive ben's post",
            explain=explain,
        )
        assert (create["outcome"], create["reason"]) == (
            "accepted",
            "post from a followed account stored",
        )
        assert create["activity_id"] == f"{post_id}/activity"

        # When ann replies to it from A
        reply_text = "Thank you all, the path looks wonderful"
        reply_id = a.ok("reply", "ann", post_id, "--body", reply_text).strip()
        assert reply_id.startswith(f"{a.url}/notes/")

        # Then the comment waits for a moderator on B
        def pending_reply() -> dict[str, Any] | None:
            comments = b.json("comments", "list", "--status", "pending")
            return next((c for c in comments if c["object_id"] == reply_id), None)

        comment = wait_until(pending_reply, "B to hold ann's reply", explain=explain)
        assert comment["status"] == "pending"
        assert comment["author"] == ann_id
        assert comment["in_reply_to"] == post_id
        assert reply_text in comment["content"]

        # And nothing of it shows before approval
        replies = b.get(f"{post_id}/replies", activity_json=True).json()
        assert replies["totalItems"] == 0
        assert reply_text not in b.get(post_id).text

        # When B's moderator approves it
        approved = b.ok("comments", "approve", str(comment["id"]))
        assert f"comment {comment['id']} is now approved" in approved

        # Then B's replies collection lists it and the post's page shows it
        response = b.get(f"{post_id}/replies", activity_json=True)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/activity+json")
        replies = response.json()
        assert replies["totalItems"] == 1
        assert replies["first"]["items"] == [reply_id]
        page = b.get(post_id)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert reply_text in page.text
        assert f"@ann@{a.host}" in page.text
        assert b.json("comments", "list", "--status", "pending") == []
