"""Mail: the notifications members want by mail, queued in the database and sent by the
worker through CONODE_SMTP_URL with retries, so a slow or failing mail server never slows a
page or loses a message. With CONODE_SMTP_URL unset nothing here runs.

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

from .listing import notices

logger = logging.getLogger(__name__)

# Sent at once by default (issue 14: responses and agreements); everything else stays on the page.
MAIL_KINDS = ("response", "match", "agreement")
SUBJECTS = {
    "response": "Someone answered your offer or request",
    "match": "Your response was chosen",
    "agreement": "Your response was accepted",
}
RECENT = timedelta(days=2)  # turning mail on later does not mail the whole history
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 12
SMTP_TIMEOUT = 30.0


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, at most 6 hours between tries (about 2 days in all)."""
    return timedelta(minutes=min(2 ** (attempts - 1), 360))


async def queue_due(node: Node) -> int:
    """Turn new notifications of the mailed kinds into mail jobs; returns how many."""
    since = utcnow() - RECENT
    rows = await node.store.notifications_to_mail(MAIL_KINDS, since)
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


async def run_once(node: Node, *, now: datetime | None = None, limit: int = 20) -> int:
    """Queue what is new, then send what is due; returns how many jobs were queued or tried.
    `now` steps time in tests."""
    if not node.settings.smtp_url:
        return 0
    moment = now or utcnow()
    worked = await queue_due(node)
    for job in await node.store.claim_mail(moment, moment + LEASE, limit):
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
