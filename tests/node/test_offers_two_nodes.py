"""Two real `conode serve` processes (issue 4): an offer on node B is answered by a member of
node A, matched and completed over real HTTP; both nodes show the agreement and the hours."""

from __future__ import annotations

from typing import Any

from ..processes import printed_on_failure, wait_until
from .test_two_nodes import TwoNodes, two_nodes

__all__ = ["two_nodes"]  # the fixture: nodes A (ann) and B (ben), serving


def test_an_offer_on_node_b_is_taken_up_from_node_a(two_nodes: TwoNodes) -> None:
    a, b = two_nodes.a, two_nodes.b
    ann, ben = f"{a.url}/users/ann", f"{b.url}/users/ben"
    with printed_on_failure(a, b):
        # Given ben offers two hours of gardening on node B
        offer_id = b.ok(
            "post", "create", "ben", "--kind", "offer", "--title", "Help in your garden",
            "--body", "Weeding", "--hours", "2", "--category", "gardening",
        ).strip()  # fmt: skip
        # When ann, on node A, replies to it
        a.ok("reply", "ann", offer_id, "--body", "I can help on Saturday")
        # Then node B holds her reply as a response
        responses = wait_until(
            lambda: b.json("offers", "list")[0]["responses"] or None,
            "ann's response on node B",
            explain=two_nodes.explain,
        )
        assert [r["author"] for r in responses] == [ann]
        # When ben matches it, node A records the agreement the Accept carries
        agreement_id = b.ok("offers", "match", offer_id, str(responses[0]["id"])).split()[0]
        on_a = wait_until(
            lambda: a.json("offers", "agreements") or None,
            "the Accept on node A",
            explain=two_nodes.explain,
        )
        assert [(x["id"], x["status"], x["provider"], x["receiver"]) for x in on_a] == [
            (agreement_id, "agreed", ben, ann)
        ]
        assert on_a[0]["title"] == "Help in your garden"
        # When ben completes it with two hours
        b.ok("offers", "complete", agreement_id, "--hours", "2")

        # Then both nodes show the completed agreement and the same balanced hours
        def completed_on_a() -> list[Any] | None:
            done = [x for x in a.json("offers", "agreements") if x["status"] == "completed"]
            return done or None

        (done_a,) = wait_until(
            completed_on_a, "the confirmation on node A", explain=two_nodes.explain
        )
        (done_b,) = b.json("offers", "agreements")
        for done in (done_a, done_b):
            assert (done["id"], done["completed_hours"]) == (agreement_id, 2.0)
        for node in (a, b):
            balances = {x["account"]: x["balance"] for x in node.json("ledger")}
            assert balances == {ben: 2.0, ann: -2.0}
        (entry,) = a.json("ledger", "ann")
        assert (entry["agreement"], entry["hours"], entry["counterparty"]) == (
            agreement_id, -2.0, ben
        )  # fmt: skip
        # And node B's board says it is done
        board = b.get("/offers?page=1", activity_json=True).json()
        assert "Offer (done):" in board["orderedItems"][0]["content"]
