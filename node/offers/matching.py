"""Matching an offer to one response: the Agreement is recorded, the response `Accept`ed
(object: the responder's Offer or reply, result: the Agreement), the offer `Update`d as taken
and the other Offer(Agreement)s rejected, all or nothing. A reply from Mastodon cannot read an
Accept, so its author also gets a mention saying they were chosen."""

from __future__ import annotations

import logging
import secrets

from activitypub import marketplace
from activitypub.vocab import Document
from node.content import publishing, replies
from node.context import Node
from node.federation import following
from node.federation.actors import LocalActor
from node.storage import AgreementRow, NoteRow, OfferRow, PostRow, utcnow

from .exchanges import handle_of, tell_parties
from .proposals import check_may_act, deliver, find_offer, inbox_of, rejections, set_status
from .terms import OfferError, hours_text

logger = logging.getLogger(__name__)
THANKS = {"offer": "you are taking up this offer", "request": "you are helping with this request"}


def agreement_document(agreement: AgreementRow) -> Document:
    info = marketplace.AgreementInfo(
        agreement_id=agreement.object_id,
        satisfies=marketplace.intent_id(agreement.proposal_id),
        provider_id=agreement.provider_id,
        receiver_id=agreement.receiver_id,
        hours=hours_text(agreement.minutes) if agreement.minutes else None,
    )
    return {"@context": marketplace.CONTEXT, **marketplace.agreement(info)}


async def _open_offer(node: Node, by: LocalActor | None, ref: str) -> tuple[PostRow, OfferRow]:
    post, offer = await find_offer(node, ref)
    check_may_act(by, post)
    if offer.status == "open" and offer.expires_at and offer.expires_at <= utcnow():
        rejected = await rejections(node, post, offer, None)
        async with node.store.transaction():
            offer = await set_status(node, post, offer, "expired", [], rejected)
    if offer.status != "open":
        raise OfferError(f"{publishing.post_id(node, post)} is {offer.status}, not open")
    return post, offer


async def match(node: Node, by: LocalActor | None, ref: str, response_id: int) -> AgreementRow:
    """Record the Agreement with one response, `Accept` it towards the responder (object: their
    Offer or reply, result: the Agreement) and `Update` the offer as taken, all or nothing."""
    post, offer = await _open_offer(node, by, ref)
    found = await node.store.response(response_id)
    if found is None or found[0].offer_id != offer.id:
        raise OfferError(f"no response {response_id} to this offer: see `conode offers list`")
    response, note = found
    if note.status in ("deleted", "rejected"):
        raise OfferError(f"response {response_id} was {note.status}; pick another")
    author = await publishing.author_of(node, post)
    giver, taker = author.actor_id, response.actor_id
    provider, receiver = (giver, taker) if post.kind == "offer" else (taker, giver)
    object_id = publishing.post_id(node, post)
    inbox = await inbox_of(node, response.actor_id)
    rejected = await rejections(node, post, offer, response.id)
    async with node.store.transaction():
        agreement = await node.store.insert_agreement(
            object_id=f"{node.settings.url}/agreements/{secrets.token_urlsafe(9)}",
            offer_id=offer.id,
            response_id=response.id,
            proposal_id=object_id,
            title=post.title,
            proposer_id=author.actor_id,
            provider_id=provider,
            receiver_id=receiver,
            minutes=response.minutes or offer.minutes,
        )
        result = {k: v for k, v in agreement_document(agreement).items() if k != "@context"}
        activity_id = f"{node.settings.url}/activities/{secrets.token_urlsafe(12)}"
        accept = marketplace.accept_offer(
            activity_id, author.actor_id, note.object_id, result, response.actor_id
        )
        if inbox is not None:
            await deliver(node, author, accept, inbox)
        await set_status(node, post, offer, "taken", [inbox] if inbox else [], rejected)
    await tell_parties(node, agreement, "match", author.actor_id)
    if response.kind == "reply":
        await _tell(node, author, post, note)
    return agreement


async def _tell(node: Node, author: LocalActor, post: PostRow, note: NoteRow) -> None:
    """A public reply mentioning the responder (Mastodon notifies them); a courtesy sent after
    the match is committed, so failing to send it changes nothing."""
    body = f"Thank you, {await handle_of(node, note.author_id)}: {THANKS[post.kind]}."
    try:
        await replies.reply(node, author, note.object_id, body)
    except following.FollowingError as exc:
        logger.info("match of %s: could not tell the responder: %s", note.object_id, exc)
