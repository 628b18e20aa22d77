"""Sending a visitor to their own server to reply to a post or follow a member.

The visitor types `@you@your.server`; we read their server's WebFinger and fill in the template
it offers for that intent: FEP-3b86 Activity Intents (`…/3b86/Follow`, `…/3b86/Object`, with an
`{object}` parameter; Mastodon 4.6 publishes them) or the older OStatus subscribe template with
`{uri}` (Mastodon's `/authorize_interaction`), which every Mastodon understands.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from activitypub import webfinger
from activitypub.vocab import JRD_JSON, SUBSCRIBE_REL, Document
from node.context import Node

from . import remote

Intent = Literal["Object", "Follow"]
FEP_3B86 = "https://w3id.org/fep/3b86/"


class InteractionError(ValueError):
    """We cannot find where to send the visitor; the message says what to try."""


def _templates(jrd: Document) -> dict[str, str]:
    found: dict[str, str] = {}
    for link in jrd.get("links", []):
        if isinstance(link, dict) and isinstance(link.get("template"), str):
            found.setdefault(str(link.get("rel")), link["template"])
    return found


def fill_template(jrd: Document, intent: Intent, object_id: str) -> str | None:
    """The URL to send the visitor to, or None when their server offers no fitting template."""
    templates = _templates(jrd)
    value = quote(object_id, safe="")
    rels = [FEP_3B86 + intent] + ([FEP_3B86 + "Object"] if intent == "Follow" else [])
    for rel in rels:
        if rel in templates and "{object}" in templates[rel]:
            return templates[rel].replace("{object}", value)
    subscribe = templates.get(SUBSCRIBE_REL, "")
    return subscribe.replace("{uri}", value) if "{uri}" in subscribe else None


async def interaction_url(node: Node, account: str, intent: Intent, object_id: str) -> str:
    try:
        acct = webfinger.parse_acct(account.strip())
    except webfinger.WebFingerError as exc:
        raise InteractionError("type your address like @you@your.server") from exc
    scheme = "http" if node.settings.allow_private_networks and ":" in acct.host else "https"
    try:
        jrd = await remote.fetch_signed(
            node, webfinger.webfinger_url(acct, scheme), accept=JRD_JSON
        )
    except remote.RemoteError as exc:
        raise InteractionError(f"{acct.host} did not answer: check the address") from exc
    target = fill_template(jrd, intent, object_id)
    if target is None or not target.startswith(("https://", "http://")):
        raise InteractionError(f"{acct.host} does not say where to reply or follow from")
    return target
