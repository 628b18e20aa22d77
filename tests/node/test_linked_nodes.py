"""Three linked nodes, each a real `conode serve` process on a loopback port, driven through the
`conode` command as three admins would, plus a Mastodon-shaped peer served over real HTTP.

The hub links with groups A and B (star); later A and B link directly too (triangle). The
processes live for the whole module (starting three nodes costs seconds on two cores), so the
tests run in file order and each builds on the links the previous ones made.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from node.federation.actors import LocalActor
from node.network.sharing import announce_id

from ..conftest import free_port
from ..fediverse import FakeServer
from ..peer import send, served_peer
from ..processes import ServedNode, fresh_database, init_node, node_env, wait_until

GROUP = "community"


@dataclass
class Net:
    hub: ServedNode
    a: ServedNode
    b: ServedNode
    peer: FakeServer

    @property
    def nodes(self) -> tuple[ServedNode, ServedNode, ServedNode]:
        return self.hub, self.a, self.b

    def explain(self) -> str:
        return "\n".join(node.output() for node in self.nodes)


def group_id(node: ServedNode) -> str:
    return f"{node.url}/groups/{GROUP}"


def their_announce_id(node: ServedNode, object_id: str) -> str:
    """The id node's Group gives its Announce of a linked object (derived from the object)."""
    fake = LocalActor(row=None, actor_id=group_id(node), profile_url="")  # type: ignore[arg-type]
    return announce_id(fake, object_id)


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    base = tmp_path_factory.mktemp("linked")
    with contextlib.ExitStack() as stack:
        nodes = []
        for name, member in (("hub", "hana"), ("a", "ann"), ("b", "ben")):
            directory = base / name
            directory.mkdir()
            database_url = stack.enter_context(fresh_database(directory))
            url = f"http://127.0.0.1:{free_port()}"
            env = node_env(
                database_url,
                directory,
                url,
                CONODE_NAME=f"Group {name}",
                CONODE_LINK_CHECK_SECONDS="1",
                # B applies the blocks of nodes it trusts at once; the others suggest them
                CONODE_LINK_BLOCKS="apply" if name == "b" else "suggest",
            )
            node = ServedNode(name, url, env, directory)
            stack.callback(node.stop)
            init_node(node, member)
            nodes.append(node)
        peer = stack.enter_context(served_peer(free_port(), "alice", "bob"))
        for node in nodes:
            node.start()
        yield Net(*nodes, peer=peer)


def feed(node: ServedNode, page: str = "feed") -> list[dict[str, Any]]:
    response = node.get(f"/network/{page}.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    items: list[dict[str, Any]] = response.json()
    return items


def entry(node: ServedNode, object_id: str, page: str = "feed") -> dict[str, Any] | None:
    return next((item for item in feed(node, page) if item["id"] == object_id), None)


def link_to(node: ServedNode, other: ServedNode) -> dict[str, Any] | None:
    return next((li for li in node.json("links", "list") if li["group"] == group_id(other)), None)


def peer_got(net: Net, actor: str, object_id: str) -> list[dict[str, Any]]:
    return [
        a for a in net.peer.received("Announce") if a["actor"] == actor and a["object"] == object_id
    ]


def post(node: ServedNode, member: str, title: str, *extra: str) -> str:
    kind = ("--kind", "report") if not extra else ()
    body = f"{title}: written on {node.name} for the whole network."
    return node.ok(
        "post", "create", member, *kind, *extra, "--title", title, "--body", body
    ).strip()


def link(net: Net, asking: ServedNode, asked: ServedNode, target: str) -> None:
    """`asking` requests with `target` (a URL or handle); `asked`'s admin approves."""
    out = asking.ok("links", "request", target)
    assert f"@{GROUP}@{asked.host}" in out
    pending = wait_until(
        lambda: (li := link_to(asked, asking)) and li["state"] == "pending" and li,
        f"{asked.name} to hold {asking.name}'s link request",
        explain=net.explain,
    )
    assert link_to(asking, asked)["state"] == "requested"  # type: ignore[index]
    asked.ok("links", "approve", str(pending["id"]))
    wait_until(
        lambda: (li := link_to(asking, asked)) and li["state"] == "linked",
        f"{asking.name} to see the link with {asked.name} as mutual",
        explain=net.explain,
    )


def follow_group(net: Net, name: str, node: ServedNode) -> None:
    follow = net.peer.follow(name, group_id(node))
    assert send(net.peer, name, follow, f"{node.url}/inbox") == 202
    wait_until(
        lambda: any(a["object"]["id"] == follow["id"] for a in net.peer.received("Accept")),
        f"{name} to be accepted by {node.name}'s group at once",
        explain=net.explain,
    )


def test_groups_link_to_the_hub_and_share_through_it(net: Net) -> None:
    hub, a, b = net.nodes
    # Given A asks by the hub's URL and B by the hub group's handle, and the hub's admin approves
    link(net, a, hub, hub.url)
    link(net, b, hub, f"@{GROUP}@{hub.host}")
    # And alice (Mastodon) follows only the hub's group, bob only B's group
    follow_group(net, "alice", hub)
    follow_group(net, "bob", b)
    assert hub.json("links", "list") and all(
        li["state"] == "linked" for li in hub.json("links", "list")
    )

    # When ann posts a report on A
    report = post(a, "ann", "Canal path cleared")

    # Then alice gets it as an Announce from the hub's group
    wait_until(lambda: peer_got(net, group_id(hub), report), "alice to get the hub's Announce")
    # And it shows in the hub's network feed and in B's (received through the hub), from A
    on_hub = wait_until(
        lambda: entry(hub, report), "the hub's feed to show it", explain=net.explain
    )
    assert (on_hub["origin"], on_hub["via"], on_hub["local"]) == (a.url, group_id(a), False)
    assert on_hub["title"] == "Canal path cleared"
    on_b = wait_until(lambda: entry(b, report), "B's feed to show it", explain=net.explain)
    assert (on_b["origin"], on_b["via"], on_b["kind"]) == (a.url, group_id(hub), "post")

    # When ben posts on B (his group announces it to bob: everything B queued before is out)
    marker = post(b, "ben", "Seed swap on Sunday")
    wait_until(lambda: peer_got(net, group_id(b), marker), "bob to get B's own post")
    # Then B never announced A's report to its own followers (one hop: it came via the hub)
    assert peer_got(net, group_id(b), report) == []
    sent_by_b = {e["activity_id"] for e in b.json("log", "--deliveries")}
    assert their_announce_id(b, report) not in sent_by_b

    # When ben offers two hours on B
    offer = post(b, "ben", "Two hours of bike repairs", "--kind", "offer", "--hours", "2")
    # Then it appears on the hub's network offers board, from B
    on_board = wait_until(lambda: entry(hub, offer, "offers"), "the hub's board to list it")
    assert (on_board["origin"], on_board["kind"], on_board["status"]) == (b.url, "offer", "open")
    assert entry(hub, report, "offers") is None  # a report is not an offer

    # And the directory and NodeInfo list the linked nodes with their member counts
    directory = {item["url"]: item for item in hub.get("/network/directory.json").json()}
    assert set(directory) == {hub.url, a.url, b.url}
    wait_until(
        lambda: hub.get("/network/directory.json").json()[1]["members"] == 1,
        "the hub to read A's member count from its NodeInfo",
    )
    assert directory[a.url]["handle"] == f"@{GROUP}@{a.host}"
    assert directory[a.url]["name"] == "Group a"
    nodeinfo = hub.get("/nodeinfo/2.1").json()
    assert sorted(nodeinfo["metadata"]["linkedNodes"]) == sorted([a.url, b.url])


def test_in_a_triangle_no_inbox_gets_an_activity_twice_and_nothing_loops(net: Net) -> None:
    hub, a, b = net.nodes
    # Given A and B link directly too
    link(net, a, b, b.url)

    # When ann posts another report
    report = post(a, "ann", "Library opening hours")

    # Then every node has it, and B (directly linked with A now) passes it on to bob
    for node in (hub, b):
        wait_until(lambda n=node: entry(n, report), f"{node.name} to have it", explain=net.explain)
    wait_until(lambda: peer_got(net, group_id(b), report), "bob to get B's Announce")
    wait_until(lambda: peer_got(net, group_id(hub), report), "alice to get the hub's Announce")
    marker = post(hub, "hana", "Hub meeting notes")  # the hub's own post, out after the rest
    wait_until(lambda: peer_got(net, group_id(hub), marker), "alice to get the hub's own post")
    for node in (a, b):
        wait_until(lambda n=node: entry(n, marker), f"{node.name} to have the hub's post")

    # Then the peer got each activity once (one POST per shared inbox)
    ids = Counter(r.activity["id"] for r in net.peer.inbox)
    assert [i for i, n in ids.items() if n > 1] == []
    # And no node received an activity twice, or delivered one twice to the same host
    for node in net.nodes:
        inbound = node.json("log", "--inbound")
        assert [e for e in inbound if e["reason"] == "duplicate: already received"] == []
        delivered = Counter(
            (e["activity_id"], e["host"])
            for e in node.json("log", "--deliveries", "--outcome", "delivered")
        )
        assert [pair for pair, n in delivered.items() if n > 1] == []
    # And the report was announced by exactly three groups (A's own, the hub, B): no loop
    announces = {f"{report}/announce", their_announce_id(hub, report), their_announce_id(b, report)}
    sent = {e["activity_id"] for node in net.nodes for e in node.json("log", "--deliveries")}
    assert {i for i in sent if i in announces | {their_announce_id(a, report)}} == announces


def test_a_node_that_was_down_catches_up_from_the_outboxes(net: Net) -> None:
    hub, a, b = net.nodes
    # Given B is stopped, and the hub sees it as unreachable in its directory
    b.stop()

    def b_in_directory() -> dict[str, Any]:
        items = hub.get("/network/directory.json").json()
        return next(item for item in items if item["url"] == b.url)

    wait_until(lambda: b_in_directory()["reachable"] is False, "the hub to see B unreachable")
    # When ann posts while B is down, and the hub has it (its Announce to B fails)
    report = post(a, "ann", "Flood warning for the lower meadow")
    wait_until(lambda: entry(hub, report), "the hub to have it", explain=net.explain)
    wait_until(
        lambda: any(
            e["activity_id"] == their_announce_id(hub, report) and e["host"] == b.host
            for e in hub.json("log", "--deliveries", "--outcome", "retry")
        ),
        "the hub's Announce to B to fail and wait for a retry",
    )
    # And B comes back
    b.start()

    # Then B reads what it missed from the outboxes, well before the hub's retry (≥ 24 s)
    wait_until(lambda: entry(b, report), "B to catch up", timeout=20, explain=net.explain)
    caught = [e for e in b.json("log", "--inbound") if "caught up from" in e["reason"]]
    assert any(e["outcome"] == "accepted" for e in caught), caught
    wait_until(lambda: b_in_directory()["reachable"] is True, "the hub to see B back")


def test_a_trusted_linked_node_s_domain_blocks_are_suggested_or_applied(net: Net) -> None:
    hub, a, b = net.nodes
    # Given the hub trusts A's moderation, and B (CONODE_LINK_BLOCKS=apply) trusts the hub's
    hub.ok("links", "trust", str(link_to(hub, a)["id"]), "--moderation")  # type: ignore[index]
    b.ok("links", "trust", str(link_to(b, hub)["id"]), "--moderation")  # type: ignore[index]
    # When A blocks one domain and the hub another
    a.ok("block", "add", "spam.example", "--reason", "floods of ads")
    hub.ok("block", "add", "scam.example", "--reason", "phishing")

    # Then the hub lists A's block as a suggestion for its admin, without applying it
    def suggested() -> list[dict[str, Any]]:
        return [s for s in hub.json("links", "suggestions") if s["target"] == "spam.example"]

    (suggestion,) = wait_until(suggested, "the hub to suggest A's block", explain=net.explain)
    assert suggestion["reason"] == f"blocked by linked node {a.host}: floods of ads"
    assert "spam.example" not in {item["target"] for item in hub.json("block", "list")}
    # And B applied the hub's block at once (but not A's: B does not trust A)
    wait_until(
        lambda: "scam.example" in {item["target"] for item in b.json("block", "list")},
        "B to apply the hub's block",
        explain=net.explain,
    )
    assert "spam.example" not in {item["target"] for item in b.json("block", "list")}
    # When the hub's admin confirms, the suggestion is done
    hub.ok("block", "add", "spam.example")
    assert suggested() == []


def test_removing_a_link_stops_sharing_both_ways(net: Net) -> None:
    hub, a, b = net.nodes
    # Given the hub's admin removes the link with A
    hub_side = link_to(hub, a)
    assert hub_side is not None
    hub.ok("links", "remove", str(hub_side["id"]))
    wait_until(lambda: link_to(a, hub) is None, "A to drop the link too", explain=net.explain)
    assert link_to(hub, a) is None

    # When ann posts on A and hana on the hub
    from_a = post(a, "ann", "Tool library moves")
    from_hub = post(hub, "hana", "Hub budget")
    # Then B (still linked with both) has both
    wait_until(lambda: entry(b, from_a), "B to have A's post", explain=net.explain)
    wait_until(lambda: entry(b, from_hub), "B to have the hub's post", explain=net.explain)
    # But the hub got nothing from A's group, and A nothing from the hub's group
    hub_heard = [
        e for e in hub.json("log", "--inbound") if e["activity_id"] == f"{from_a}/announce"
    ]
    assert all(e["outcome"] != "accepted" for e in hub_heard), hub_heard
    on_a = wait_until(lambda: entry(a, from_hub), "A to get the hub's post through B")
    assert on_a["via"] == group_id(b)  # not from the hub directly
    assert not any(
        e["actor_id"] == group_id(hub) and e["activity_id"] == f"{from_hub}/announce"
        for e in a.json("log", "--inbound")
    )
    # And the hub does not pass A's post on to alice (B's copy of A's post is one hop away)
    assert peer_got(net, group_id(hub), from_a) == []


def test_unknown_link_ids_and_non_groups_are_clear_cli_errors(net: Net) -> None:
    for action in ("approve", "remove"):
        result = net.hub.run("links", action, "999")
        assert result.returncode == 2
        assert "no link 999: see `conode links list`" in result.stderr
    assert net.hub.run("links", "trust", "999", "--moderation").returncode == 2
    # A link is Group to Group: asking a member is refused with the reason
    result = net.hub.run("links", "request", f"{net.a.url}/users/ann")
    assert result.returncode == 2
    assert "is a Person, not a node's Group actor" in result.stderr
