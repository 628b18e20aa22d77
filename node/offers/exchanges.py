"""Responses and agreements as they arrive: a reply to one of our offers, or a FEP-0837
`Offer(Agreement)` for it, becomes a response; an `Accept{result: Agreement}` of one of our
members' responses, and the proposer's confirmation that closes it, are recorded here so this
node shows the agreement and its hours too. Also the ledger entries both sides write.

Handlers return (outcome, reason) for node/inbound/activities.py to log; every value from the
network is checked as hostile: units, amounts, who may speak for which agreement.
"""

from __future__ import annotations

import html as html_escape
from dataclasses import dataclass

from activitypub import marketplace
from activitypub.marketplace import HOUR, MarketplaceError, Terms
from activitypub.vocab import Document, id_of
from node.content import html
from node.context import Node
from node.federation import remote
from node.federation.actors import local_actor, local_actor_by_row_id
from node.notifications import events
from node.storage import AgreementRow, NoteRow, OfferRow, PostRow, utcnow

from .terms import KINDS, OfferError, hours_label, parse_hours

Result = tuple[str, str]  # (outcome, reason) for the activity log
MAX_ID = 2048  # the id columns' width


def dropped(reason: str) -> Result:
    return "dropped", reason


def offer_object_id(node: Node, post: PostRow) -> str:
    return f"{node.settings.url}/posts/{post.public_id}"


async def author_id_of(node: Node, post: PostRow) -> str:
    author = await local_actor_by_row_id(node.store, node.settings, post.author_id)
    return author.actor_id if author else ""


async def handle_of(node: Node, actor_id: str) -> str:
    """@name for our members, @name@host for others we know, else the actor id."""
    prefix = f"{node.settings.url}/users/"
    if actor_id.startswith(prefix):
        return f"@{actor_id.removeprefix(prefix)}"
    known = await node.store.remote_actor(actor_id)
    return known.handle if known and known.username else actor_id


async def local_member_id(node: Node, actor_id: str) -> int | None:
    """The row id of the local member an actor id names, or None for anyone else."""
    prefix = f"{node.settings.url}/users/"
    if not actor_id.startswith(prefix):
        return None
    row = await node.store.local_actor(actor_id.removeprefix(prefix))
    if row is None or row.kind != "Person":
        return None
    return row.id if local_actor(node.settings, row).actor_id == actor_id else None


async def ledger_entries(
    node: Node, provider_id: str, receiver_id: str, minutes: int
) -> list[tuple[str, int | None, int]]:
    """Double entry: the provider is credited, the receiver debited, by the same minutes."""
    return [
        (provider_id, await local_member_id(node, provider_id), minutes),
        (receiver_id, await local_member_id(node, receiver_id), -minutes),
    ]


async def tell_parties(node: Node, agreement: AgreementRow, kind: str, actor_id: str) -> None:
    """The members taking part in an exchange hear of a step someone else (`actor_id`) took:
    `match`, `agreement` or `hours` (node/notifications/events.py)."""
    path = agreement.object_id.removeprefix(node.settings.url)
    for party in sorted({agreement.provider_id, agreement.receiver_id} - {actor_id}):
        member_id = await local_member_id(node, party)
        if member_id is not None:
            await events.about_agreement(
                node.store, member_id, kind, path, actor_id, agreement.title
            )


async def offer_for(node: Node, object_id: str) -> tuple[PostRow, OfferRow] | None:
    """Our offer or request with this object id (or intent id, `…#primary`)."""
    prefix = f"{node.settings.url}/posts/"
    if not object_id.startswith(prefix):
        return None
    post = await node.store.post(object_id.removeprefix(prefix).split("#")[0].split("/")[0])
    if post is None or post.kind not in KINDS or post.deleted_at is not None:
        return None
    offer = await node.store.offer_of_post(post.id or 0)
    return (post, offer) if offer else None


# --- responses ---------------------------------------------------------------------------------


async def record_reply(node: Node, object_id: str) -> bool:
    """After a note is stored: a direct reply to one of our offers, by anyone but its author,
    is a response to it. The note itself stays a comment, moderated like any other."""
    note = await node.store.note(object_id)
    if note is None or note.id is None or note.post_id is None:
        return False
    found = await offer_for(node, note.in_reply_to)
    if found is None or offer_object_id(node, found[0]) != note.in_reply_to:
        return False
    post, offer = found
    if note.author_id == await author_id_of(node, post):
        return False
    recorded = await node.store.insert_response(
        offer_id=offer.id, note_id=note.id, actor_id=note.author_id, kind="reply", minutes=None
    )
    if recorded:
        await events.response(node.store, post, note)
    return recorded


def minutes_of(terms: Terms) -> int | None:
    """The amount in minutes; raises OfferError for anything but a sane number of hours."""
    if terms.unit != HOUR:
        raise OfferError(f"unit {terms.unit[:40]!r} is not {HOUR!r}")
    return None if terms.value is None else parse_hours(terms.value)


@dataclass(frozen=True)
class _Proposed:
    post: PostRow
    offer: OfferRow
    minutes: int | None


async def _proposed(node: Node, activity: Document, actor_id: str) -> _Proposed | str:
    """What an Offer(Agreement) proposes for which offer of ours, or why it cannot be used."""
    try:
        terms = marketplace.read_offer(activity)
        minutes = minutes_of(terms)
    except (MarketplaceError, OfferError) as exc:
        return str(exc)
    found = await offer_for(node, terms.satisfies)
    if found is None or terms.satisfies != marketplace.intent_id(offer_object_id(node, found[0])):
        return "offer of an agreement on no proposal of ours"
    if found[1].status != "open":
        return f"the proposal is {found[1].status}, not open"
    if await author_id_of(node, found[0]) == actor_id:
        return "an offer on one's own proposal"
    return _Proposed(found[0], found[1], minutes)


async def on_offer(node: Node, activity: Document, actor_id: str) -> Result:
    """FEP-0837 `Offer{object: Agreement}` for one of our offers: stored as a private note
    (never published) and a response carrying the amount proposed."""
    activity_id = id_of(activity.get("id")) or ""
    if not remote.same_origin(activity_id, actor_id) or len(activity_id) > MAX_ID:
        return dropped("offer id is not a URL on the actor's host")
    proposed = await _proposed(node, activity, actor_id)
    if isinstance(proposed, str):
        return dropped(proposed)
    text = html.sanitize_comment(str(activity.get("content") or "")[:5000])
    amount = f" ({hours_label(proposed.minutes)})" if proposed.minutes else ""
    now = utcnow()
    row = NoteRow(
        object_id=activity_id,
        post_id=proposed.post.id,
        in_reply_to=offer_object_id(node, proposed.post),
        author_id=actor_id,
        local_author_id=None,
        host=remote.host_of(actor_id),
        url=None,
        content_html=text or f"<p>Offers to take this up{html_escape.escape(amount)}.</p>",
        summary=None,
        sensitive=False,
        public=False,
        status="private",
        published_at=now,
        created_at=now,
    )
    async with node.store.transaction():
        if not await node.store.insert_note(row):
            return "duplicate", "offer already stored"
        note = await node.store.note(activity_id)
        assert note is not None and note.id is not None
        await node.store.insert_response(
            offer_id=proposed.offer.id,
            note_id=note.id,
            actor_id=actor_id,
            kind="agreement",
            minutes=proposed.minutes,
        )
        await events.response(node.store, proposed.post, note)
    return "accepted", "offer of an agreement stored as a response"


async def on_update_offer(node: Node, offer: Document, actor_id: str) -> Result:
    """`Update{object: Offer}`: the responder changed the amount they propose."""
    note = await node.store.note(id_of(offer.get("id")) or "")
    if note is None or note.author_id != actor_id or note.status == "deleted":
        return dropped("update of an offer that is not theirs")
    try:
        minutes = minutes_of(marketplace.read_offer(offer))
    except (MarketplaceError, OfferError) as exc:
        return dropped(str(exc))
    post = await node.store.post_by_id(note.post_id or 0)
    offer_row = await node.store.offer_of_post(post.id or 0) if post else None
    for response, _ in await node.store.responses_to(offer_row.id) if offer_row else []:
        if response.note_id == note.id:
            await node.store.update_response(response.id, minutes=minutes)
            return "accepted", "offer of an agreement updated"
    return dropped("update of an unknown offer")
