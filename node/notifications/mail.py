"""Mail: the notifications members chose to get by mail (node/notifications/choices.py), queued
in the database and sent by the worker through CONODE_SMTP_URL with retries, so a slow or
failing mail server never slows a page or loses a message. With CONODE_SMTP_URL unset nothing
here runs. Moderators' notifications go out as a digest, at most one mail an hour.

Sending is at least once: a job is leased while it is sent, and a worker killed after the
server took the message but before it recorded so leaves the job to be sent again.

What goes into headers is ours alone (the subject names the kind, never what a remote author
wrote); the body gives the sentence and the link, as text and as escaped HTML, and
`List-Unsubscribe` points at the member's settings, where the address can be removed."""

from __future__ import annotations

import asyncio
import html
import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from node.context import Node
from node.ops import smtp
from node.storage import utcnow

from . import choices
from .listing import notices

logger = logging.getLogger(__name__)

SUBJECTS = {
    "response": "Someone answered your offer or request",
    "match": "Your response was chosen",
    "agreement": "Your response was accepted",
    "reply": "Someone replied to you",
    "mention": "Someone mentioned you",
    "hours": "Hours were recorded",
    "follower": "You have a new follower",
    "link_request": "Another node asks to link",
}
DIGEST_EVERY = timedelta(hours=1)  # moderators get at most one mail an hour
RECENT = timedelta(days=2)  # turning mail on later does not mail the whole history
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 12
SMTP_TIMEOUT = 30.0


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, at most 6 hours between tries (about 2 days in all)."""
    return timedelta(minutes=min(2 ** (attempts - 1), 360))


async def queue_due(node: Node, now: datetime | None = None) -> int:
    """Turn new notifications of the kinds each member chose into mail jobs: the moderators'
    gathered into a digest; returns how many notifications were queued."""
    moment = now or utcnow()
    return await _queue_at_once(node, moment) + await _queue_digests(node, moment)


async def _queue_at_once(node: Node, moment: datetime) -> int:
    kinds = tuple(SUBJECTS)
    rows = await node.store.notifications_to_mail(kinds, moment - RECENT, defaults=choices.DEFAULTS)
    for row in rows:
        sentence = await _sentence(node, row)
        url = row["url"] if "://" in row["url"] else node.settings.url + row["url"]
        await node.store.queue_mail(
            row["id"],
            recipient=row["email"],
            subject=f"{SUBJECTS[row['kind']]} · {node.settings.name}"[:200],
            body_text=f"{sentence}\n\n{url}\n\n{_footer(node)}\n",
            body_html=(
                f'<p><a href="{html.escape(url)}">{html.escape(sentence)}</a></p>'
                f"<p>{html.escape(_footer(node))}</p>"
            ),
        )
    return len(rows)


async def _sentence(node: Node, row: dict[str, Any]) -> str:
    for notice in await notices(node.store, node.settings, row["recipient_id"]):
        if notice.id == row["id"]:
            return notice.sentence
    return SUBJECTS[row["kind"]]


async def _queue_digests(node: Node, moment: datetime) -> int:
    """For each moderator who chose it and had no digest in the last hour: one mail listing
    every comment waiting and report that came since the last."""
    before = moment - DIGEST_EVERY
    rows = await node.store.notifications_to_mail(
        choices.DIGEST,
        moment - RECENT,
        defaults=choices.DIGEST_DEFAULTS,
        digest_before=before,
        limit=500,
    )
    by_member: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_member.setdefault(row["recipient_id"], []).append(row)
    queued = 0
    for member_id, items in by_member.items():
        wanted = {row["id"] for row in items}
        found = [n for n in await notices(node.store, node.settings, member_id) if n.id in wanted]
        found.reverse()  # oldest first, as they came
        lines = [f"- {notice.sentence}: {notice.url}" for notice in found]
        listed = "".join(
            f'<li><a href="{html.escape(n.url)}">{html.escape(n.sentence)}</a></li>' for n in found
        )
        moderation = f"{node.settings.url}/moderation"
        intro = f"Waiting for you on {node.settings.name} since the last mail:"
        done = await node.store.queue_digest(
            member_id,
            sorted(wanted),
            now=moment,
            digest_before=before,
            recipient=items[0]["email"],
            subject=f"Moderation: {len(items)} new · {node.settings.name}"[:200],
            body_text="\n".join([intro, "", *lines, "", moderation, "", _footer(node), ""]),
            body_html=(
                f"<p>{html.escape(intro)}</p><ul>{listed}</ul>"
                f'<p><a href="{html.escape(moderation)}">{html.escape(moderation)}</a></p>'
                f"<p>{html.escape(_footer(node))}</p>"
            ),
        )
        queued += len(items) if done else 0
    return queued


async def queue_reset(node: Node, address: str, username: str, link: str) -> None:
    """The link to choose a new password, asked for on /forgot."""
    text = (
        f"Someone (we hope you) asked for a new password for @{username} on "
        f"{node.settings.name}. This link works once, for 24 hours:\n\n{link}\n\n"
        "If you did not ask, ignore this mail: your password stays as it is."
    )
    await node.store.insert_mail_job(
        recipient=address,
        subject=f"Choose a new password · {node.settings.name}"[:200],
        body_text=text + "\n",
        body_html="".join(f"<p>{html.escape(part)}</p>" for part in text.split("\n\n")),
    )


def _footer(node: Node) -> str:
    return (
        f"You get this because you gave {node.settings.name} your address; "
        f"change that at {node.settings.url}/settings"
    )


def message(node: Node, job: dict[str, Any]) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = node.settings.mail_sender
    mail["To"] = job["recipient"]
    mail["Subject"] = job["subject"]
    mail["Message-ID"] = make_msgid(idstring=f"conode-{job['id']}", domain="conode.invalid")
    mail["List-Unsubscribe"] = f"<{node.settings.url}/settings>"
    mail.set_content(job["body_text"])
    mail.add_alternative(job["body_html"], subtype="html")
    return mail


def send(smtp_url: str, mail: EmailMessage) -> None:
    """One message through the configured server (blocking: run in a thread)."""
    with smtp.open_smtp(smtp_url, SMTP_TIMEOUT) as client:
        client.send_message(mail)


async def run_once(
    node: Node, *, now: datetime | None = None, limit: int = 20, lease: timedelta = LEASE
) -> int:
    """Queue what is new, then send what is due; returns how many notifications were queued
    plus jobs tried. `now` steps time in tests; the worker passes the lease it uses for
    deliveries (CONODE_DELIVERY_LEASE_SECONDS)."""
    if not node.settings.smtp_url:
        return 0
    moment = now or utcnow()
    worked = await queue_due(node, moment)
    for job in await node.store.claim_mail(moment, moment + lease, limit):
        await _attempt(node, job, moment)
        worked += 1
    return worked


async def _attempt(node: Node, job: dict[str, Any], moment: datetime) -> None:
    attempts = job["attempts"] + 1
    try:
        await asyncio.to_thread(send, node.settings.smtp_url, message(node, job))
    except (smtplib.SMTPException, OSError) as exc:  # timeouts are OSErrors
        permanent = isinstance(exc, smtplib.SMTPRecipientsRefused) or attempts >= MAX_ATTEMPTS
        logger.warning("mail %s failed (try %d): %s", job["id"], attempts, exc)
        await node.store.finish_mail(
            job["id"],
            attempts=attempts,
            status="failed" if permanent else "pending",
            next_attempt_at=moment + backoff(attempts),
            last_error=str(exc)[:500],
        )
        return
    await node.store.finish_mail(job["id"], attempts=attempts, status="sent", sent_at=utcnow())
