"""Mail through a real SMTP server (aiosmtpd on a loopback port): a reply from another server
to a member's offer gives one notification and one mail; with the mail server down for a while
the mail arrives after it comes back; a job leased by a worker that died is sent once the lease
ends (a real `conode worker` killed mid-send: test_mail_worker.py); members choose what is
mailed; moderators get at most one mail an hour."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from node.notifications import mail
from node.settings import Settings
from node.storage import utcnow

from ..conftest import TEST_URL, free_port
from .conftest import Network
from .test_notifications import _offer
from .web import add_member

ADDRESS = "ann@example.org"


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


@dataclasses.dataclass
class Smtp:
    port: int
    inbox: Inbox
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp(free_port(), Inbox())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings: Settings, smtp: Smtp) -> Settings:
    url = f"smtp://127.0.0.1:{smtp.port}"
    return dataclasses.replace(settings, smtp_url=url, mail_from="timebank@example.org")


async def _ann_with_offer_and_reply(network: Network, *, times: int = 1) -> str:
    await add_member(network.node.store, network.node.settings, "ann")
    row = await network.node.store.local_actor("ann")
    assert row is not None
    await network.node.store.update_account(row.id, email=ADDRESS)
    object_id = await _offer(network, "ann")
    reply = network.mastodon.reply("alice", object_id, "Subject: pwned\r\nBcc: x@y.z I can help")
    for _ in range(times):  # a server retrying its delivery
        response = await network.mastodon.send("alice", reply, f"{TEST_URL}/inbox")
        assert response.status_code == 202
        await network.drain()
    return object_id


async def test_a_remote_reply_to_an_offer_sends_one_mail(network: Network, smtp: Smtp) -> None:
    # When alice's server delivers her reply to ann's offer twice
    object_id = await _ann_with_offer_and_reply(network, times=2)
    await network.drain()
    # Then ann has exactly one notification and one mail
    assert await _kinds(network, "ann") == ["response"]
    (message,) = smtp.inbox.messages
    assert message["To"] == ADDRESS and message["From"] == "timebank@example.org"
    assert message["Subject"].startswith("Someone answered your offer or request")
    assert "pwned" not in str(message["Subject"]) and message["Bcc"] is None
    assert message["List-Unsubscribe"] == f"<{network.node.settings.url}/settings>"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert object_id.split("#")[0].rsplit("/", 1)[1] in text.get_content()
    assert "@alice@mastodon.example" in html.get_content()


async def test_mail_waits_for_a_server_that_is_down(network: Network, smtp: Smtp) -> None:
    smtp.stop()
    await _ann_with_offer_and_reply(network)
    await network.drain()
    (job,) = await network.node.store.mail_jobs()
    assert (job["status"], job["attempts"]) == ("pending", 1) and job["last_error"]
    # Nothing is tried again before its time
    assert await mail.run_once(network.node) == 0
    # When the server is back and the retry is due, the mail goes out once
    smtp.start()
    later = utcnow() + timedelta(minutes=2)
    assert await mail.run_once(network.node, now=later) == 1
    assert len(smtp.inbox.messages) == 1
    (job,) = await network.node.store.mail_jobs()
    assert (job["status"], job["attempts"]) == ("sent", 2)
    assert await mail.run_once(network.node, now=later + timedelta(hours=1)) == 0


async def test_a_job_leased_by_a_dead_worker_is_sent_once_the_lease_ends(
    network: Network, smtp: Smtp
) -> None:
    await _ann_with_offer_and_reply(network)
    await network.drain()  # the inbox acts, the mail is queued and sent
    smtp.inbox.messages.clear()
    # Given a second mail claimed by a worker that then died before recording anything
    row = await network.node.store.local_actor("ann")
    assert row is not None
    await network.node.store.add_notification(row.id, "agreement", "/agreements/x", text="Lift")
    assert await mail.queue_due(network.node) == 1
    now = utcnow()
    assert len(await network.node.store.claim_mail(now, now + mail.LEASE, 10)) == 1
    # Then no other pass takes it while the lease holds, and the next after it sends it
    assert await mail.run_once(network.node, now=now + timedelta(minutes=1)) == 0
    assert await mail.run_once(network.node, now=now + mail.LEASE + timedelta(seconds=1)) == 1
    (message,) = smtp.inbox.messages
    assert message["Subject"].startswith("Your response was accepted")


def test_mail_settings_are_checked() -> None:
    from node.settings import SettingsError, load_settings

    plain = load_settings({"CONODE_URL": "https://river.example"}, env_file=None)
    assert plain.smtp_url == "" and plain.mail_sender == "conode@river.example"
    for name, value in (
        ("CONODE_SMTP_URL", "http://mail.example"),
        ("CONODE_SMTP_URL", "smtp://mail.example:port"),
        ("CONODE_MAIL_FROM", "x@y.z\r\nBcc: a@b.c"),
    ):
        with pytest.raises(SettingsError):
            load_settings({name: value}, env_file=None)
    chosen = load_settings({"CONODE_SMTP_URL": "smtps://u:p@mail.example:465"}, env_file=None)
    assert chosen.smtp_url == "smtps://u:p@mail.example:465"


async def _forgot(network: Network, username: str) -> str:
    from .web import csrf_of

    page = await network.http.get(f"{TEST_URL}/forgot")
    assert page.status_code == 200
    form = {"csrf": csrf_of(page.text), "username": username}
    answer = await network.http.post(f"{TEST_URL}/forgot", data=form)
    assert answer.status_code == 200
    return answer.text.split("<main", 1)[1]


async def test_forgot_password_mails_a_link_and_answers_the_same_for_anyone(
    network: Network, smtp: Smtp
) -> None:
    store, settings = network.node.store, network.node.settings
    await add_member(store, settings, "ann")
    await add_member(store, settings, "bob")  # no address
    ann = await store.local_actor("ann")
    assert ann is not None
    await store.update_account(ann.id, email=ADDRESS)
    login = await network.http.get(f"{TEST_URL}/login")
    assert 'href="/forgot"' in login.text
    # Whoever is asked for, the answer is the same
    answers = {name: await _forgot(network, name) for name in ("ann", "bob", "nobody")}
    assert answers["ann"] == answers["bob"] == answers["nobody"]
    await network.drain()
    # And only ann, who gave an address, gets a mail with a working link
    (message,) = smtp.inbox.messages
    assert message["To"] == ADDRESS and "password" in message["Subject"].lower()
    body = message.get_body(("plain",))
    assert body is not None
    link = next(word for word in body.get_content().split() if "/reset/" in word)
    assert link.startswith(f"{settings.url}/reset/")
    assert (await network.http.get(link.replace(settings.url, TEST_URL))).status_code == 200


# --- choices -----------------------------------------------------------------------------------


async def _choose(network: Network, name: str, *kinds: str, offered: bool = True) -> None:
    """Sign in as `name` and tick exactly these kinds on the settings page (`offered`: the
    page offers them, and shows them ticked afterwards)."""
    from .web import sign_in, token

    await sign_in(network.http, name)
    page = await network.http.get(f"{TEST_URL}/settings")
    assert 'action="/settings/mail"' in page.text
    form = {"csrf": await token(network.http, "/settings"), "mail": list(kinds)}
    answer = await network.http.post(f"{TEST_URL}/settings/mail", data=form)
    assert answer.status_code == 303 and answer.headers["location"] == "/settings?done=mail"
    page = await network.http.get(f"{TEST_URL}/settings")
    for kind in kinds if offered else ():
        assert f'id="mail-{kind}" name="mail" value="{kind}" checked' in page.text
    await network.http.post(
        f"{TEST_URL}/logout", data={"csrf": await token(network.http, "/settings")}
    )


async def _with_address(network: Network, name: str, address: str, *, admin: bool = False) -> int:
    await add_member(network.node.store, network.node.settings, name, admin=admin)
    row = await network.node.store.local_actor(name)
    assert row is not None
    await network.node.store.update_account(row.id, email=address)
    return row.id


async def test_by_default_only_responses_and_agreements_are_mailed(
    network: Network, smtp: Smtp
) -> None:
    await _with_address(network, "ann", ADDRESS)
    # When alice follows ann (a notification, not mailed by default)
    follow = network.mastodon.follow("alice", f"{TEST_URL}/users/ann")
    assert (await network.mastodon.send("alice", follow, f"{TEST_URL}/inbox")).status_code == 202
    await network.drain()
    assert await _kinds(network, "ann") == ["follower"]
    assert smtp.inbox.messages == []
    # And then answers ann's offer (mailed by default)
    object_id = await _offer(network, "ann")
    reply = network.mastodon.reply("alice", object_id, "Count me in")
    assert (await network.mastodon.send("alice", reply, f"{TEST_URL}/inbox")).status_code == 202
    await network.drain()
    (message,) = smtp.inbox.messages
    assert message["Subject"].startswith("Someone answered your offer or request")


async def test_a_member_chooses_what_is_mailed(network: Network, smtp: Smtp) -> None:
    await _with_address(network, "ann", ADDRESS)
    await add_member(network.node.store, network.node.settings, "cat")
    # Given ann wants mail only of mentions and new followers (not of responses)
    await _choose(network, "ann", "mention", "follower")
    # When alice answers her offer: a notification, and no mail
    object_id = await _offer(network, "ann")
    reply = network.mastodon.reply("alice", object_id, "Count me in")
    assert (await network.mastodon.send("alice", reply, f"{TEST_URL}/inbox")).status_code == 202
    await network.drain()
    assert await _kinds(network, "ann") == ["response"]
    assert smtp.inbox.messages == []
    # When alice mentions her from Mastodon: a mail
    ann_id = f"{TEST_URL}/users/ann"
    post = network.mastodon.reply(
        "alice", "https://mastodon.example/x", "hi", mention=(ann_id, "@ann")
    )
    post["object"]["inReplyTo"] = None
    assert (await network.mastodon.send("alice", post, f"{TEST_URL}/inbox")).status_code == 202
    await network.drain()
    (message,) = smtp.inbox.messages
    assert message["Subject"].startswith("Someone mentioned you") and message["To"] == ADDRESS
    body = message.get_body(("plain",))
    assert body is not None and post["object"]["id"] in body.get_content()
    # And a kind only moderators get cannot be chosen by a member
    row = await network.node.store.local_actor("ann")
    assert row is not None and row.mail_kinds == ",mention,follower,"
    await _choose(network, "ann", "report", offered=False)
    row = await network.node.store.local_actor("ann")
    assert row is not None and row.mail_kinds == ","


async def _kinds(network: Network, name: str) -> list[str]:
    row = await network.node.store.local_actor(name)
    assert row is not None
    return [item["kind"] for item in await network.node.store.notifications_of(row.id)]


# --- the moderators' hourly digest ---------------------------------------------------------


async def test_moderators_get_at_most_one_mail_an_hour(network: Network, smtp: Smtp) -> None:
    store = network.node.store
    await add_member(store, network.node.settings, "ann")
    object_id = await _offer(network, "ann")
    await _with_address(network, "mia", "mia@example.org", admin=True)
    await _with_address(network, "max", "max@example.org", admin=True)
    # Given mia kept the defaults (the digest is on for moderators) and max unticked it
    await _choose(network, "max", "response")
    # When a comment from someone new arrives and is held
    first = network.mastodon.reply("alice", object_id, "First!")
    assert (await network.mastodon.send("alice", first, f"{TEST_URL}/inbox")).status_code == 202
    await network.drain()
    # Then mia gets one mail saying so, and max none
    (message,) = smtp.inbox.messages
    assert message["To"] == "mia@example.org" and message["Subject"].startswith("Moderation: 1 new")
    assert await _kinds(network, "max") == ["comment_waiting"]
    # When another comment and a report arrive within the hour
    second = network.mastodon.reply("bob", object_id, "Second!")
    assert (await network.mastodon.send("bob", second, f"{TEST_URL}/inbox")).status_code == 202
    flag = network.mastodon.simple("bob", "Flag", [object_id])
    assert (await network.mastodon.send("bob", flag, f"{TEST_URL}/inbox")).status_code == 202
    await network.drain()
    # Then no mail goes out before the hour is over
    assert len(smtp.inbox.messages) == 1
    assert await mail.run_once(network.node, now=utcnow() + timedelta(minutes=58)) == 0
    assert len(smtp.inbox.messages) == 1
    # And after it, one mail lists both
    later = utcnow() + timedelta(minutes=61)
    assert await mail.run_once(network.node, now=later) > 0
    assert [m["To"] for m in smtp.inbox.messages] == ["mia@example.org"] * 2
    digest = smtp.inbox.messages[1]
    assert digest["Subject"].startswith("Moderation: 2 new")
    body = digest.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "A comment by @bob@mastodon.example waits for moderation" in text
    assert "@bob@mastodon.example sent a report" in text and "First!" not in text
    assert f"{network.node.settings.url}/moderation" in text
    # And nothing more goes out while nothing new came
    assert await mail.run_once(network.node, now=later + timedelta(hours=2)) == 0
    assert len(smtp.inbox.messages) == 2
