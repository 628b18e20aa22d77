"""The hours ledger: completing an agreement credits the giver and debits the receiver (local
members by account, remote parties by actor id) in one transaction with the public confirmation
Note that references the Agreement (FEP-0837 `context`); balances and history are read here too.
"""

from __future__ import annotations

import html as html_escape
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from activitypub import marketplace, objects
from activitypub.vocab import Document
from node.content import publishing
from node.context import Node
from node.federation.actors import LocalActor
from node.storage import AgreementRow, NoteRow, PostRow, utcnow

from . import proposals as offers
from .exchanges import handle_of, ledger_entries, tell_parties
from .terms import OfferError, hours_label, hours_text, parse_hours


async def find_agreement(node: Node, ref: str) -> AgreementRow:
    """By its id (URL) or the last part of it; an offer's id finds the offer's agreement."""
    ref = ref.strip()
    object_id = ref if "/" in ref else f"{node.settings.url}/agreements/{ref}"
    agreement = await node.store.agreement(object_id)
    if agreement is not None:
        return agreement
    try:
        post, offer = await offers.find_offer(node, ref)
    except OfferError:
        raise OfferError(f"no agreement {ref!r}: see `conode offers agreements`") from None
    for candidate in await node.store.agreements(offer_id=offer.id):
        if candidate.status == "agreed":
            return candidate
    raise OfferError(
        f"{publishing.post_id(node, post)} has not been matched: run "
        "`conode offers match OFFER_ID RESPONSE_ID` first"
    )


async def _party(node: Node, actor_id: str) -> tuple[str, list[Document]]:
    """How a party is named in the confirmation, and a Mention so Mastodon notifies them."""
    handle = await handle_of(node, actor_id)
    link = f'<a href="{html_escape.escape(actor_id)}" class="u-url mention">'
    text = f"{link}{html_escape.escape(handle)}</a>"
    local = actor_id.startswith(f"{node.settings.url}/")
    return text, [] if local else [objects.mention(actor_id, handle)]


async def _confirmation(
    node: Node, post: PostRow, author: LocalActor, agreement: AgreementRow, minutes: int
) -> NoteRow:
    """The public Note saying the hours were given: a reply to the offer, `context` = the
    Agreement, and who gave how many hours to whom in Valueflows terms."""
    provider, provider_tags = await _party(node, agreement.provider_id)
    receiver, receiver_tags = await _party(node, agreement.receiver_id)
    title = html_escape.escape(post.title)
    content = f"<p>Done: {provider} gave {hours_label(minutes)} to {receiver} ({title}).</p>"
    note_id, now = f"{node.settings.url}/notes/{secrets.token_urlsafe(9)}", utcnow()
    mentioned = [tag["href"] for tag in provider_tags + receiver_tags]
    info = objects.NoteInfo(
        object_id=note_id,
        attributed_to=author.actor_id,
        content=content,
        published=now,
        addressing=objects.public_addressing(f"{author.actor_id}/followers", *mentioned),
        in_reply_to=agreement.proposal_id,
        tags=provider_tags + receiver_tags,
    )
    terms = marketplace.confirmation_terms(
        agreement.object_id, agreement.provider_id, agreement.receiver_id, hours_text(minutes)
    )
    document = objects.note(info) | {"@context": marketplace.CONTEXT} | terms
    return NoteRow(
        object_id=note_id,
        post_id=post.id,
        in_reply_to=agreement.proposal_id,
        author_id=author.actor_id,
        local_author_id=author.row.id,
        host=node.settings.host,
        url=note_id,
        content_html=content,
        summary=None,
        sensitive=False,
        public=True,
        status="approved",
        published_at=now,
        created_at=now,
        document=json.dumps(document),
    )


async def complete(node: Node, by: LocalActor | None, ref: str, hours: str) -> AgreementRow:
    """Write the hours to the ledger, publish the confirmation and mark the offer fulfilled:
    one transaction, so a failure leaves no half-written exchange."""
    minutes = parse_hours(hours)
    agreement = await find_agreement(node, ref)
    if agreement.offer_id is None:
        raise OfferError(
            f"{agreement.object_id} was made on another node; its proposer completes it"
        )
    if agreement.status != "agreed":
        raise OfferError(f"{agreement.object_id} is already {agreement.status}")
    offer = await node.store.offer_by_id(agreement.offer_id)
    post = await node.store.post_by_id(offer.post_id) if offer else None
    assert offer is not None and post is not None
    offers.check_may_act(by, post)
    author = await publishing.author_of(node, post)
    counterparty = agreement.receiver_id if agreement.provider_id == author.actor_id else None
    counterparty = counterparty or agreement.provider_id
    inbox = await offers.inbox_of(node, counterparty)
    note = await _confirmation(node, post, author, agreement, minutes)
    entries = await ledger_entries(node, agreement.provider_id, agreement.receiver_id, minutes)
    async with node.store.transaction():
        if not await node.store.complete_agreement(agreement.id, minutes, entries):
            raise OfferError(f"{agreement.object_id} was completed already")
        await node.store.insert_note(note)
        create = objects.create(f"{note.object_id}/activity", json.loads(note.document or "{}"))
        await publishing.federate(node, author, create, announce=False)
        if inbox is not None:
            await offers.deliver(node, author, create, inbox)
        if offer.status not in offers.CLOSED:
            await offers.set_status(node, post, offer, "fulfilled", [inbox] if inbox else [])
    await tell_parties(node, agreement, "hours", author.actor_id)
    return await node.store.agreement(agreement.object_id) or agreement


@dataclass(frozen=True)
class Balance:
    account_id: str
    handle: str
    local: bool
    balance: int  # minutes
    given: int
    received: int


async def balances(node: Node) -> list[Balance]:
    return [
        Balance(
            account_id=row["account_id"],
            handle=await handle_of(node, row["account_id"]),
            local=row["local_actor_id"] is not None,
            balance=int(row["balance"] or 0),
            given=int(row["given"] or 0),
            received=int(row["received"] or 0),
        )
        for row in await node.store.ledger_balances()
    ]


@dataclass(frozen=True)
class Entry:
    agreement_id: str
    proposal_id: str
    title: str
    account_id: str
    counterparty: str
    minutes: int
    at: datetime


async def history(node: Node, account_id: str | None = None) -> list[Entry]:
    entries = []
    for row in await node.store.ledger_history(account_id):
        other = (
            row["receiver_id"] if row["account_id"] == row["provider_id"] else row["provider_id"]
        )
        entries.append(
            Entry(
                agreement_id=row["agreement"],
                proposal_id=row["proposal_id"],
                title=row["title"],
                account_id=row["account_id"],
                counterparty=other,
                minutes=int(row["minutes"]),
                at=row["created_at"],
            )
        )
    return entries
