"""A member reports a comment from its post's page: the report reaches the moderators'
reports page, and a moderator forwards it, so the comment's own server (Mastodon-shaped here)
receives a signed Flag naming the comment. Through the real app, worker and fake servers."""

from __future__ import annotations

import re

import httpx

from node.storage.keyset import Window

from ..conftest import TEST_URL
from .conftest import Network
from .web import add_member, csrf_of, sign_in

SHARED_INBOX = f"{TEST_URL}/inbox"
REPORT_FORM = re.compile(r'action="/comments/(\d+)/report"')


async def _alice_comment(network: Network) -> tuple[str, str]:
    """ben's post and alice's (mastodon.example) comment on it: their URLs."""
    post_url = await network.post()
    # alice's comments publish at once (a moderator approved and trusted her before)
    await network.node.store.approve_author(network.mastodon.actor_id("alice"))
    reply = network.mastodon.reply("alice", post_url, "Buy cheap watches at spam.example")
    assert (await network.mastodon.send("alice", reply, SHARED_INBOX)).status_code == 202
    await network.drain()
    return post_url, str(reply["object"]["id"])


async def _report_form(client: httpx.AsyncClient, post_url: str) -> tuple[str, str]:
    """The report form's action and CSRF token, as a signed-in member sees the post."""
    page = (await client.get(post_url)).text
    match = REPORT_FORM.search(page)
    assert match, "a signed-in member sees no report form on the comment"
    return match.group(0).split('"')[1], csrf_of(page)


async def test_a_members_report_reaches_the_moderators_and_is_forwarded_as_a_flag(
    network: Network,
) -> None:
    # Given alice on mastodon.example commented on ben's post, and dana, a member, reads it
    post_url, comment_id = await _alice_comment(network)
    await add_member(network.node.store, network.node.settings, "dana")
    await add_member(network.node.store, network.node.settings, "mia", admin=True)
    await sign_in(network.http, "dana")
    action, csrf = await _report_form(network.http, post_url)
    # When dana reports the comment with a reason
    sent = await network.http.post(
        f"{TEST_URL}{action}", data={"csrf": csrf, "reason": "Spam, selling watches"}
    )
    assert sent.status_code == 200
    assert "Report sent" in sent.text
    # Then the moderators are told, and the report names the comment, its author and dana
    mia = await network.node.store.local_actor("mia")
    assert mia is not None
    (notification,) = await network.node.store.notifications_of(mia.id)
    assert notification["kind"] == "report"
    (report,) = await network.node.store.reports()
    assert report["object_ids"] == [network.mastodon.actor_id("alice"), comment_id]
    assert report["actor_id"] == f"{TEST_URL}/users/dana"
    async with network.fediverse.client() as moderator:
        await sign_in(moderator, "mia")
        page = (await moderator.get(f"{TEST_URL}/moderation/reports")).text
        assert "Sent by our member" in page and "@dana" in page
        assert "Spam, selling watches" in page
        assert "Buy cheap watches" in page
        # When mia forwards it with a word of her own
        forwarded = await moderator.post(
            f"{TEST_URL}/moderation/reports/{report['id']}/forward",
            data={"csrf": csrf_of(page), "comment": "Spam seen on conode.example"},
        )
        assert forwarded.status_code == 303
        await network.drain()
        after = (await moderator.get(f"{TEST_URL}/moderation/reports")).text
    # Then mastodon.example received one Flag, signed by our instance actor, naming the comment
    (received,) = [r for r in network.mastodon.inbox if r.activity["type"] == "Flag"]
    assert received.signer == f"{TEST_URL}/actor"
    assert received.activity["object"] == [network.mastodon.actor_id("alice"), comment_id]
    assert received.activity["content"] == "Spam seen on conode.example"
    assert "watches" not in str(received.activity)  # dana's words stay here
    assert "Forwarded to the reported server" in after
    assert "/forward" not in after  # forwarded once
    actions = await network.node.store.moderation_page(Window(10))
    assert [a["action"] for a in actions.items][:1] == ["forward_report"]


async def test_a_report_needs_a_member_a_form_token_and_a_reason(network: Network) -> None:
    post_url, _ = await _alice_comment(network)
    await add_member(network.node.store, network.node.settings, "dana")
    await sign_in(network.http, "dana")
    action, csrf = await _report_form(network.http, post_url)
    # A visitor has no form and cannot post one
    async with network.fediverse.client() as visitor:
        assert not REPORT_FORM.search((await visitor.get(post_url)).text)
        refused = await visitor.post(f"{TEST_URL}{action}", data={"reason": "x"})
        assert refused.status_code == 303 and "/login" in refused.headers["location"]
    # A member without the form's token, or without a reason, is refused
    forged = await network.http.post(f"{TEST_URL}{action}", data={"reason": "Spam"})
    assert forged.status_code == 403
    empty = await network.http.post(f"{TEST_URL}{action}", data={"csrf": csrf, "reason": "  "})
    assert empty.status_code == 400
    assert "Say what is wrong" in empty.text
    # A comment that is not shown cannot be reported
    missing = await network.http.post(
        f"{TEST_URL}/comments/9999/report", data={"csrf": csrf, "reason": "Spam"}
    )
    assert missing.status_code == 404
    assert await network.node.store.reports() == []


async def test_only_moderators_forward_and_a_report_about_our_own_member_is_not_forwardable(
    network: Network,
) -> None:
    # Given dana reports eve's comment (a member of ours: nothing to forward)
    post_url = await network.post()
    for name in ("dana", "eve"):
        await add_member(network.node.store, network.node.settings, name)
    await add_member(network.node.store, network.node.settings, "mia", admin=True)
    await sign_in(network.http, "eve")
    csrf = csrf_of((await network.http.get(post_url)).text)
    public_id = post_url.rsplit("/", 1)[1]
    await network.http.post(
        f"{TEST_URL}/posts/{public_id}/comments", data={"csrf": csrf, "body": "A reply of mine"}
    )
    async with network.fediverse.client() as dana:
        await sign_in(dana, "dana")
        action, csrf = await _report_form(dana, post_url)
        assert (
            await dana.post(f"{TEST_URL}{action}", data={"csrf": csrf, "reason": "Rude"})
        ).status_code == 200
        (report,) = await network.node.store.reports()
        # When dana (not a moderator) tries to forward it, she is refused
        refused = await dana.post(
            f"{TEST_URL}/moderation/reports/{report['id']}/forward", data={"csrf": csrf}
        )
        assert refused.status_code == 403
    async with network.fediverse.client() as moderator:
        await sign_in(moderator, "mia")
        page = (await moderator.get(f"{TEST_URL}/moderation/reports")).text
        assert "about our member eve" in page
        assert "/forward" not in page  # nothing in it is from elsewhere
        tried = await moderator.post(
            f"{TEST_URL}/moderation/reports/{report['id']}/forward", data={"csrf": csrf_of(page)}
        )
        assert tried.status_code == 400
        assert "Nothing in report" in tried.text
    assert (await network.node.store.reports())[0]["forwarded_at"] is None
