"""A member moves between two real linked `conode serve` nodes (issue 18): followers on a
Mastodon-shaped peer receive the Move, a member of the new node who followed the old account
follows the move, and the member's hours go along: each node's ledger, and the network's,
still sum to zero, and the balance on the new node is what it was on the old one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..conftest import free_port
from ..peer import send, served_peer
from ..processes import ServedNode, printed_on_failure, serving_nodes, wait_until

GROUP = "community"


def _linked(asking: ServedNode, asked: ServedNode) -> None:
    """`asking` asks to link with `asked`, whose admin approves; both end up linked."""
    asking.ok("links", "request", asked.url)

    def waiting() -> dict[str, Any] | None:
        return next((li for li in asked.json("links", "list") if li["state"] == "pending"), None)

    request = wait_until(waiting, f"{asked.name} to hold the link request", explain=asked.output)
    asked.ok("links", "approve", str(request["id"]))
    wait_until(
        lambda: [li["state"] for li in asking.json("links", "list")] == ["linked"],
        f"{asking.name} to see the link as mutual",
        explain=asking.output,
    )


def _ann_takes_two_hours_from_ben(a: ServedNode, b: ServedNode) -> None:
    """ben (B) offers two hours, ann (A) takes them up, ben completes: ann holds -2 hours."""
    offer_id = b.ok(
        "post", "create", "ben", "--kind", "offer", "--title", "Bike repairs",
        "--body", "Two hours of repairs", "--hours", "2", "--category", "skills",
    ).strip()  # fmt: skip
    a.ok("reply", "ann", offer_id, "--body", "My gears, please")
    responses = wait_until(
        lambda: b.json("offers", "list")[0]["responses"] or None, "ann's response on B"
    )
    agreement_id = b.ok("offers", "match", offer_id, str(responses[0]["id"])).split()[0]
    wait_until(lambda: a.json("offers", "agreements") or None, "the agreement on A")
    b.ok("offers", "complete", agreement_id, "--hours", "2")
    wait_until(lambda: _balance(a, "ann") == -2.0 or None, "ann's hours on A")


def _balances(node: ServedNode) -> list[dict[str, Any]]:
    return node.json("ledger")


def _balance(node: ServedNode, account: str) -> float | None:
    wanted = f"{node.url}/users/{account}"
    return next((x["balance"] for x in _balances(node) if x["account"] == wanted), None)


def test_a_member_moves_between_linked_nodes_with_followers_and_hours(tmp_path: Path) -> None:
    with (
        serving_nodes(tmp_path, ("a", "ann"), ("b", "ben")) as (a, b),
        served_peer(free_port(), "alice") as peer,
        printed_on_failure(a, b),
    ):
        ann, anna = f"{a.url}/users/ann", f"{b.url}/users/anna"
        # Given A and B are linked, and ann (A) owes two hours to ben (B)
        _linked(a, b)
        _ann_takes_two_hours_from_ben(a, b)
        # And alice (Mastodon) and ben follow ann
        assert send(peer, "alice", peer.follow("alice", ann), f"{a.url}/inbox") == 202
        b.ok("follow", "ben", f"@ann@{a.host}")
        wait_until(
            lambda: a.get("/users/ann/followers", activity_json=True).json()["totalItems"] == 2,
            "ann's two followers",
        )
        # And her new account anna on B lists her old one
        b.ok("user", "create", "anna")
        b.ok("user", "alias", "anna", f"@ann@{a.host}")

        # When ann moves to anna
        out = a.ok("user", "move", "ann", f"@anna@{b.host}")
        assert f"@anna@{b.host}" in out and "2 hours offered" in out

        # Then alice's server gets the Move: actor = object = ann, target = anna
        move = wait_until(
            lambda: next(iter(peer.received("Move")), None), "the Move at alice's server"
        )
        assert (move["actor"], move["object"], move["target"]) == (ann, ann, anna)
        # And ben, who followed ann, follows the move (anna is his neighbour: nothing to send)
        (on_b,) = wait_until(
            lambda: [e for e in b.json("log", "--inbound") if e["type"] == "Move"] or None,
            "B to act on the Move",
        )
        assert on_b["outcome"] == "accepted", on_b["reason"]
        assert on_b["reason"].endswith("follow the move: 1")
        # And the hours moved: anna holds on B what ann held on A, and ann holds nothing
        wait_until(lambda: _balance(b, "anna") == -2.0 or None, "anna's hours on B")
        wait_until(lambda: _balance(a, "ann") == 0.0 or None, "A's closing entry")
        for node in (a, b):
            assert sum(x["balance"] for x in _balances(node)) == 0  # each ledger sums to zero
        network = [x["balance"] for node in (a, b) for x in _balances(node) if x["local"]]
        assert sum(network) == 0  # and so does the network's: ben +2, anna -2, ann 0
        # And the history on each node names both nodes
        (closing,) = [e for e in a.json("ledger", "ann") if e["counterparty"] == anna]
        (opening,) = b.json("ledger", "anna")
        assert (closing["hours"], opening["hours"], opening["counterparty"]) == (2.0, -2.0, ann)
        assert (closing["offer"], opening["offer"]) == (anna, ann)  # the hours page links there
        for entry in (closing, opening):
            assert a.host in entry["title"] and b.host in entry["title"]
        # And ann's profile on A says where she went; she publishes no more there
        assert f'href="{anna}"' in a.get("/@ann").text
        refused = a.run("post", "create", "ann", "--kind", "report", "--title", "Hi", "--body", "x")
        assert refused.returncode != 0 and "has moved to" in refused.stderr
        # And moving again is refused in a sentence
        again = a.run("user", "move", "ann", f"@anna@{b.host}")
        assert again.returncode != 0 and "already" in again.stderr
