"""Offers and requests: published as a `Note` that reads well in a Mastodon timeline and carries
the FEP-0837 proposal terms; matched to a response (an Agreement, and an `Accept` to the
responder), closed or expired. Every change of status is federated as an `Update` of the Note.
"""

from __future__ import annotations

import html as html_escape
import secrets
from dataclasses import dataclass

from activitypub import interaction, marketplace, objects
from activitypub.vocab import Document
from node.content import interaction_policy, mentions, publishing
from node.context import Node
from node.federation import delivery, remote
from node.federation.actors import LocalActor
from node.storage import OfferRow, PostRow, utcnow

from . import exchanges
from .terms import (
    KINDS,
    OfferError,
    category_slug,
    check_category,
    check_place,
    hours_label,
    hours_text,
    parse_expiry,
    parse_hours,
)

CALL_TO_ACTION = {"offer": "reply to take it up", "request": "reply to offer help"}
CLOSED_WORDS = {
    "taken": "taken",
    "fulfilled": "done",
    "withdrawn": "withdrawn",
    "expired": "expired",
}
CLOSED = ("fulfilled", "withdrawn", "expired")


@dataclass(frozen=True)
class OfferDraft:
    """The terms as typed; checked by `create_offer`."""

    category: str | None = None
    hours: str | None = None
    place: str | None = None
    expires: str | None = None


def category_id(node: Node, name: str) -> str:
    return f"{node.settings.url}/offers/categories/{category_slug(name)}"


def _headline(post: PostRow, offer: OfferRow) -> str:
    label = post.kind.title()
    if offer.status != "open":
        label += f" ({CLOSED_WORDS[offer.status]})"
    parts = [html_escape.escape(post.title)]
    if offer.minutes:
        parts.append(hours_label(offer.minutes))
    if offer.category:
        parts.append(html_escape.escape(offer.category))
    parts.append(CALL_TO_ACTION[post.kind] if offer.status == "open" else "no longer open")
    return f"<p><strong>{label}:</strong> {' · '.join(parts)}</p>"


def _details(offer: OfferRow) -> str:
    lines = []
    if offer.place:
        lines.append(f"Where: {html_escape.escape(offer.place)}")
    if offer.expires_at is not None:
        lines.append(f"Until: {offer.expires_at.strftime('%-d %B %Y')}")
    return f"<p>{'<br>'.join(lines)}</p>" if lines else ""


def offer_document(
    node: Node, post: PostRow, offer: OfferRow, author: LocalActor, group_id: str | None
) -> Document:
    """The Note: `content` says what, how long, which category and how to respond; the
    FEP-0837 terms say the same for marketplace-aware servers. No `summary`: Mastodon would
    turn it into a content warning."""
    object_id = publishing.post_id(node, post)
    info = objects.NoteInfo(
        object_id=object_id,
        attributed_to=author.actor_id,
        content=_headline(post, offer) + post.content_html + _details(offer),
        published=post.published_at,
        addressing=objects.public_addressing(
            f"{author.actor_id}/followers", *publishing.mentioned_ids(post)
        ),
        tags=publishing.post_tags(node, post),
        updated=post.updated_at,
    )
    document = objects.language_maps(
        objects.note(info) | {"@context": marketplace.CONTEXT, "name": post.title}, post.language
    )
    document["replies"] = f"{object_id}/replies"
    # Who may reply and quote, as on articles (GoToSocial's shape, Mastodon's canQuote)
    document["@context"] = [*marketplace.CONTEXT, interaction.TERMS]
    document["interactionPolicy"] = interaction_policy.policy_document(post, author)
    if group_id:
        document["audience"] = group_id
    terms = marketplace.ProposalInfo(
        object_id=object_id,
        purpose="offer" if post.kind == "offer" else "request",
        hours=hours_text(offer.minutes) if offer.minutes else None,
        category_id=category_id(node, offer.category) if offer.category else None,
        available=offer.status == "open",
        place=offer.place,
        end_time=offer.expires_at,
    )
    return document | marketplace.proposal_terms(terms)


async def _document(node: Node, post: PostRow, offer: OfferRow) -> tuple[LocalActor, Document]:
    author = await publishing.author_of(node, post)
    group = await publishing.group_actor(node)
    return author, offer_document(node, post, offer, author, group.actor_id if group else None)


async def document_of(node: Node, post: PostRow) -> Document | None:
    offer = await node.store.offer_of_post(post.id or 0)
    return (await _document(node, post, offer))[1] if offer else None


async def create_offer(
    node: Node, author: LocalActor, draft: publishing.Draft, terms: OfferDraft
) -> PostRow:
    """Check everything first (nothing is stored on a bad input), then store the post and its
    terms and queue the Create (followers) and the group's Announce in one transaction."""
    if draft.kind not in KINDS:
        raise OfferError(f"{draft.kind!r} is not an offer or a request")
    draft = publishing.written_in(node, author, draft)
    row = publishing.post_row(author, draft, await mentions.links_for(node, draft.body))
    values = {
        "category": check_category(node.settings, terms.category),
        "minutes": parse_hours(terms.hours) if terms.hours is not None else None,
        "place": check_place(terms.place),
        "expires_at": parse_expiry(terms.expires, utcnow()),
    }
    group = await publishing.group_actor(node)
    async with node.store.transaction():
        post = await node.store.insert_post(row)
        offer = await node.store.insert_offer(post_id=post.id, **values)
        document = offer_document(node, post, offer, author, group.actor_id if group else None)
        create = objects.create(f"{document['id']}/activity", document)
        await publishing.federate(node, author, create, announce=True)
        await publishing.tell_mentioned(node, post, author)
    return post


async def find_offer(node: Node, ref: str) -> tuple[PostRow, OfferRow]:
    post = await publishing.post_from_id(node, ref.strip())
    offer = await node.store.offer_of_post(post.id or 0) if post else None
    if post is None or offer is None or post.deleted_at is not None:
        raise OfferError(f"no offer or request {ref!r} here: see `conode offers list`")
    return post, offer


def check_may_act(by: LocalActor | None, post: PostRow) -> None:
    """The offer's author or an admin; None is the operator at the command line."""
    if by is not None and not by.row.is_admin and by.row.id != post.author_id:
        raise OfferError(f"{by.handle} may not act for this offer: only its author or an admin")


Rejections = list[tuple[Document, str]]  # (Reject, inbox)


async def rejections(node: Node, post: PostRow, offer: OfferRow, chosen: int | None) -> Rejections:
    """FEP-0837: each Offer(Agreement) not accepted gets a `Reject` when the offer stops being
    open. Looked up before the transaction; a responder we cannot reach is skipped."""
    if offer.status != "open":
        return []  # they were answered when it stopped being open
    author_id = await exchanges.author_id_of(node, post)
    reason = "Taken up by someone else." if chosen else f"This {post.kind} is closed."
    found = []
    for response, note in await node.store.responses_to(offer.id):
        if response.kind != "agreement" or response.id == chosen or note.status == "deleted":
            continue
        try:
            inbox = await inbox_of(node, response.actor_id)
        except OfferError:
            continue
        activity_id = f"{node.settings.url}/activities/{secrets.token_urlsafe(12)}"
        reject = marketplace.reject_offer(
            activity_id, author_id, note.object_id, response.actor_id, reason
        )
        found += [(reject, inbox)] if inbox else []
    return found


async def set_status(
    node: Node,
    post: PostRow,
    offer: OfferRow,
    status: str,
    also_to: list[str],
    rejected: Rejections | None = None,
) -> OfferRow:
    """Change the status and queue the Update to everyone who saw the offer (and `also_to`),
    and the Rejects. Call inside the caller's transaction."""
    now = utcnow()
    closed_at = (offer.closed_at or now) if status in CLOSED else None
    await node.store.update_offer(offer.id, status=status, closed_at=closed_at)
    await node.store.update_post(post.id or 0, updated_at=now)
    post = await node.store.post_by_id(post.id or 0) or post
    offer = await node.store.offer_by_id(offer.id) or offer
    author, document = await _document(node, post, offer)
    update = objects.update(f"{document['id']}/update/{secrets.token_urlsafe(6)}", document)
    await publishing.federate(node, author, update, announce=False)
    for inbox in also_to:
        await deliver(node, author, update, inbox)
    for reject, inbox in rejected or []:
        await deliver(node, author, reject, inbox)
    return offer


async def edit_offer(
    node: Node, post: PostRow, *, title: str | None, body: str | None, summary: str | None
) -> PostRow:
    """New title or text, same terms and status; the Update goes where the offer went."""
    links = await mentions.links_for(node, body if body is not None else post.source)
    changes = publishing.post_changes(post, title=title, body=body, summary=summary, links=links)
    post, offer = await find_offer(node, post.public_id)
    async with node.store.transaction():
        await node.store.update_post(post.id or 0, **changes)
        await set_status(node, post, offer, offer.status, [])
        edited = await node.store.post_by_id(post.id or 0) or post
        await publishing.tell_mentioned(node, edited, await publishing.author_of(node, edited))
    return edited


async def expire_due(node: Node) -> int:
    """Offers past their expiry become `expired` (and say so to followers); returns how many."""
    due = await node.store.offers_due_to_expire(utcnow())
    for post, offer in due:
        rejected = await rejections(node, post, offer, None)
        async with node.store.transaction():
            await set_status(node, post, offer, "expired", [], rejected)
    return len(due)


async def close(node: Node, by: LocalActor | None, ref: str, status: str) -> OfferRow:
    post, offer = await find_offer(node, ref)
    check_may_act(by, post)
    if status not in ("fulfilled", "withdrawn"):
        raise OfferError(f"close as fulfilled or withdrawn, not {status!r}")
    if offer.status in CLOSED:
        raise OfferError(f"{publishing.post_id(node, post)} is already {offer.status}")
    rejected = await rejections(node, post, offer, None)
    async with node.store.transaction():
        return await set_status(node, post, offer, status, [], rejected)


async def inbox_of(node: Node, actor_id: str) -> str | None:
    """Where to deliver to a party: None for our own members."""
    if await exchanges.local_member_id(node, actor_id) is not None:
        return None
    try:
        actor = await remote.get_actor(node, actor_id)
    except remote.RemoteError as exc:
        raise OfferError(f"cannot reach {actor_id}: {exc.reason}") from exc
    return actor.shared_inbox_url or actor.inbox_url


async def deliver(node: Node, author: LocalActor, activity: Document, inbox: str) -> None:
    await delivery.enqueue(
        node.store, activity=activity, sender=author.username, inbox_urls=[inbox]
    )
