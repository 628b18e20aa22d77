"""Reports that travel: forwarding a received report to the reported account's server, and
saying where each received report came from.

Forwarding is Mastodon's behaviour (app/services/report_service.rb, `forward_to_origin`): one
`Flag{actor: <instance actor>, object: [<account>, <its reported objects>…], content}` per
reported account, signed by the instance actor so the reporter is not exposed. The content is
the moderator's own words; the reporter's are not passed on (they never agreed to that).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import urlsplit

from activitypub.vocab import AS_CONTEXT, Document
from node.context import Node

from . import delivery, remote
from .actors import local_actor

logger = logging.getLogger(__name__)

MAX_COMMENT_CHARS = 1000


class ForwardError(ValueError):
    """A report that cannot be forwarded; the message says why."""


async def _reported_accounts(node: Node, object_ids: list[str]) -> dict[str, list[str]]:
    """Remote account id -> the reported objects of theirs; our own objects are left out."""
    accounts: dict[str, list[str]] = {}
    for object_id in object_ids:
        if object_id.startswith(node.settings.url + "/"):
            continue
        note = await node.store.note(object_id)
        kept = None if note else await node.store.remote_post(object_id)
        if note is not None and note.local_author_id is None:
            accounts.setdefault(note.author_id, []).append(object_id)
        elif kept is not None:
            accounts.setdefault(str(kept["actor_id"]), []).append(object_id)
        elif note is None and await node.store.remote_actor(object_id) is not None:
            accounts.setdefault(object_id, [])
    return accounts


def _flag(node: Node, actor_id: str, account: str, objects: list[str], comment: str) -> Document:
    return {
        "@context": AS_CONTEXT,
        "id": f"{node.settings.url}/activities/{uuid.uuid4()}",
        "type": "Flag",
        "actor": actor_id,
        "content": comment,
        "object": [account, *objects],
    }


async def forward_report(node: Node, report_id: int, *, comment: str = "") -> list[str]:
    """Queue one Flag per reported remote account, from the instance actor; returns the
    servers it goes to. Raises ForwardError."""
    report = await node.store.report(report_id)
    if report is None:
        raise ForwardError(f"no report {report_id}: see `conode reports list`")
    accounts = await _reported_accounts(node, report["object_ids"])
    if not accounts:
        raise ForwardError(f"nothing in report {report_id} is from an account elsewhere")
    row = await node.store.local_actor_of_kind("Application")
    if row is None:
        raise ForwardError("the node has no instance actor: run `conode init`")
    instance = local_actor(node.settings, row)
    servers: set[str] = set()
    for account, objects in accounts.items():
        try:
            target = await remote.get_actor(node, account)
        except remote.RemoteError as exc:
            raise ForwardError(f"cannot reach {account}: {exc.reason}") from exc
        flag = _flag(node, instance.actor_id, account, objects, comment[:MAX_COMMENT_CHARS])
        inbox = target.shared_inbox_url or target.inbox_url
        await delivery.enqueue(node.store, activity=flag, sender=row.username, inbox_urls=[inbox])
        servers.add(target.host)
    await node.store.mark_report_forwarded(report_id)
    logger.info("report %d forwarded to %s", report_id, ", ".join(sorted(servers)))
    return sorted(servers)


async def report_views(node: Node) -> list[dict[str, Any]]:
    """Reports, oldest first, each with the `server` that sent it, the `members` of ours it is
    about (by username), the `reporter` when one of our members made it (their username, else
    ""), and whether anything in it is `forwardable` (from an account elsewhere)."""
    views = []
    prefix = f"{node.settings.url}/users/"
    for report in await node.store.reports():
        members = [
            object_id.removeprefix(prefix)
            for object_id in report["object_ids"]
            if object_id.startswith(prefix) and "/" not in object_id.removeprefix(prefix)
        ]
        server = (urlsplit(report["actor_id"]).netloc or "").lower()
        reporter = report["actor_id"].removeprefix(prefix)
        reporter = "" if reporter == report["actor_id"] or "/" in reporter else reporter
        remote = [i for i in report["object_ids"] if not i.startswith(node.settings.url + "/")]
        views.append(
            {
                **report,
                "server": server,
                "members": members,
                "reporter": reporter,
                "forwardable": bool(remote),
            }
        )
    return views
