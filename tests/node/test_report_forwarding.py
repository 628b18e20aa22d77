"""Reports travel: a moderator forwards a report about a remote account to that account's server
as a Flag signed by the instance actor (Mastodon's behaviour), and a report received about one
of our members says which server sent it. Through the real inbox, worker and HTTP."""

from __future__ import annotations

import pytest

from node.federation import report_forwarding

from ..conftest import TEST_URL
from .conftest import Network
from .web import add_member, sign_in

BEN = f"{TEST_URL}/users/ben"
SHARED_INBOX = f"{TEST_URL}/inbox"


async def _report(network: Network, about: list[str], content: str = "Spam links") -> int:
    flag = network.mastodon.simple("alice", "Flag", about)
    flag["content"] = content
    response = await network.mastodon.send("alice", flag, SHARED_INBOX)
    assert response.status_code == 202
    await network.drain()
    reports = await network.node.store.reports()
    return int(reports[-1]["id"])


async def _carol_comment(network: Network) -> str:
    object_id = await network.post()
    reply = network.other.reply("carol", object_id, "Buy cheap watches")
    assert (await network.other.send("carol", reply, SHARED_INBOX)).status_code == 202
    await network.drain()
    return str(reply["object"]["id"])


async def test_a_forwarded_report_reaches_the_reported_server_as_the_instance_actors_flag(
    network: Network,
) -> None:
    # Given carol (gts.example) commented on ben's post, and alice (mastodon.example) reported it
    comment = await _carol_comment(network)
    carol = network.other.actor_id("carol")
    report_id = await _report(network, [carol, comment])
    # When a moderator forwards the report with a word of their own
    sent = await report_forwarding.forward_report(
        network.node, report_id, comment="Seen on our node too"
    )
    await network.drain()
    # Then gts.example received one Flag from our instance actor (it verified the signature):
    # the account, the comment, and the moderator's words, not alice's
    assert sent == ["gts.example"]
    (flag,) = network.other.received("Flag")
    assert flag["actor"] == f"{TEST_URL}/actor"
    assert flag["object"] == [carol, comment]
    assert flag["content"] == "Seen on our node too"
    assert "Spam links" not in str(flag)
    assert network.mastodon.received("Flag") == []
    (report,) = await network.node.store.reports()
    assert report["forwarded_at"] is not None


async def test_a_report_about_nothing_remote_cannot_be_forwarded(network: Network) -> None:
    object_id = await network.post()
    report_id = await _report(network, [BEN, object_id])

    with pytest.raises(report_forwarding.ForwardError, match=r"nothing in report .* elsewhere"):
        await report_forwarding.forward_report(network.node, report_id)
    with pytest.raises(report_forwarding.ForwardError, match="no report 999"):
        await report_forwarding.forward_report(network.node, 999)


async def test_a_report_about_a_member_shows_the_server_that_sent_it(network: Network) -> None:
    # Given alice on mastodon.example reports ben
    await _report(network, [BEN], content="Rude to me")
    # When a moderator reads the reports
    (view,) = await report_forwarding.report_views(network.node)
    await add_member(network.node.store, network.node.settings, "mia", admin=True)
    await sign_in(network.http, "mia")
    page = (await network.http.get(f"{TEST_URL}/moderation/reports")).text
    # Then both say it came from mastodon.example, about our member ben
    assert view["server"] == "mastodon.example"
    assert view["members"] == ["ben"]
    assert "from the server <strong>mastodon.example</strong>" in page
    assert "about our member ben" in page
