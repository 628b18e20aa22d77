"""A network keeps sharing while an origin node is down, on the strength of FEP-8b32 proofs:
three real `conode serve` processes, A and C each linked with the hub only. A post written on A
reaches C through the hub; C takes it from its author's proof, never from A, which is stopped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from .. import independent_proofs
from ..conftest import free_port
from ..processes import ServedNode, fresh_database, init_node, node_env, wait_until
from .test_linked_nodes import GROUP, entry, group_id, their_announce_id

Nodes = tuple[ServedNode, ServedNode, ServedNode]


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    base = tmp_path_factory.mktemp("proofs")
    with contextlib.ExitStack() as stack:
        served = []
        for name, member in (("a", "ann"), ("hub", "hana"), ("c", "cy")):
            directory = base / name
            directory.mkdir()
            database_url = stack.enter_context(fresh_database(directory))
            url = f"http://127.0.0.1:{free_port()}"
            env = node_env(database_url, directory, url, CONODE_LINK_CHECK_SECONDS="1")
            node = ServedNode(name, url, env, directory)
            stack.callback(node.stop)
            init_node(node, member)
            served.append(node)
        for node in served:
            node.start()
        a, hub, c = served
        yield a, hub, c


def _explain(*nodes: ServedNode) -> str:
    return "\n".join(node.output() for node in nodes)


def _link(asking: ServedNode, hub: ServedNode) -> None:
    asking.ok("links", "request", hub.url)

    def pending() -> dict[str, Any] | None:
        items = hub.json("links", "list")
        return next(
            (li for li in items if li["group"] == group_id(asking) and li["state"] == "pending"),
            None,
        )

    held = wait_until(pending, f"the hub to hold {asking.name}'s request")
    hub.ok("links", "approve", str(held["id"]))
    wait_until(
        lambda: any(li["state"] == "linked" for li in asking.json("links", "list")),
        f"{asking.name} to be linked with the hub",
    )


def _post(node: ServedNode, member: str, title: str) -> str:
    body = f"{title}: written on {node.name}, for the whole network."
    return node.ok(
        "post", "create", member, "--kind", "report", "--title", title, "--body", body
    ).strip()


def _taken(node: ServedNode, hub: ServedNode, object_id: str) -> list[dict[str, Any]]:
    announce = their_announce_id(hub, object_id)
    return [
        e
        for e in node.json("log", "--inbound")
        if e["activity_id"] == announce and e["outcome"] == "accepted"
    ]


def test_a_post_reaches_a_node_from_its_proof_while_its_origin_is_stopped(nodes: Nodes) -> None:
    a, hub, c = nodes
    # Given A and C are linked with the hub (not with each other)
    _link(a, hub)
    _link(c, hub)
    assert GROUP in group_id(a)

    # When ann posts on A, the hub passes it on to C with ann's proof, and C takes it from that
    first = _post(a, "ann", "Canal path cleared")
    wait_until(
        lambda: entry(c, first), "C to have ann's first post", explain=lambda: _explain(a, hub, c)
    )
    (taken,) = wait_until(lambda: _taken(c, hub, first), "C's log of the hub's Announce")
    assert "from its author's proof" in taken["reason"], taken
    # And what A serves carries the proof that an independent implementation verifies
    served = a.get(first, activity_json=True).json()
    actor = a.get(f"{a.url}/users/ann", activity_json=True).json()
    key = independent_proofs.public_key(actor["assertionMethod"][0]["publicKeyMultibase"])
    assert independent_proofs.verifies(served, key)

    # Given C is down while ann posts again, and the hub has the post (fetched from A)
    c.stop()
    second = _post(a, "ann", "Seed swap on Sunday")
    wait_until(
        lambda: entry(hub, second),
        "the hub to have the second post",
        explain=lambda: _explain(a, hub),
    )
    # When A stops, and then C comes back
    a.stop()
    c.start()

    # Then C has ann's post, taken from her proof alone (A cannot answer)
    on_c = wait_until(
        lambda: entry(c, second),
        "C to get the second post",
        timeout=60,
        explain=lambda: _explain(hub, c),
    )
    assert (on_c["origin"], on_c["title"]) == (a.url, "Seed swap on Sunday")
    assert any("from its author's proof" in e["reason"] for e in _taken(c, hub, second))
