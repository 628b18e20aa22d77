"""/admin, the admin dashboard: the checks `conode doctor` makes, each with what to do, and a
chart of deliveries and inbound activities per hour over the last day, drawn on the server
(no script, nothing from elsewhere). Admins only (tests/node/test_web_accounts.py refuses the
others)."""

from __future__ import annotations

import re

from ..conftest import TEST_URL
from .conftest import Network
from .web import add_member, sign_in


async def test_the_dashboard_shows_the_checks_and_the_last_day(network: Network) -> None:
    store, settings = network.node.store, network.node.settings
    await add_member(store, settings, "mia", admin=True)
    # Given a Follow arrived and its Accept went out
    follow = network.mastodon.follow("bob", f"{TEST_URL}/users/ben")
    assert (await network.mastodon.send("bob", follow, f"{TEST_URL}/inbox")).status_code == 202
    await network.drain()
    assert network.mastodon.received("Accept")
    await sign_in(network.http, "mia")
    page = await network.http.get(f"{TEST_URL}/admin")
    assert page.status_code == 200, page.text
    rows = dict(re.findall(r"<tr class=\"check-\w+\"><td>(\w+)</td><td><strong>(\w+)", page.text))
    # Then each check has its line: this test steps the worker itself, so no heartbeat
    assert rows == {
        "database": "ok",
        "secret": "ok",
        "url": "ok",
        "worker": "fail",
        "queue": "ok",
        "paused": "ok",
        "mail": "ok",
    }
    assert "The node needs attention" in page.text
    assert "start one (`systemctl start conode-worker`" in page.text.replace("&#96;", "`")
    # And the chart counts the inbound Follow and the delivered Accept in the current hour
    titles = re.findall(r"<rect [^>]*><title>([^<]+)</title>", page.text)
    assert len(titles) == 48
    assert re.search(r":00 UTC: [1-9]\d* deliveries", titles[-2]), titles[-2]
    assert titles[-1].endswith(": 1 inbound activities"), titles[-1]
    # Drawn here: no script, and nothing loaded from another site
    assert "<script" not in page.text
    assert not re.search(r'src="https?://(?!conode\.example)', page.text)
    assert not re.search(r'<link [^>]*href="https?://(?!conode\.example)', page.text)
