"""Agreements another node makes with one of our members: the proposer's `Accept{result:
Agreement}` of our member's response, and its confirmation Note (`context` = the Agreement)
once the hours are done. Recorded so that this node shows the agreement and our member's hours.

Only the proposer may speak for an agreement: it must live on the proposer's host, name our
member and the proposer as its two parties, and satisfy the proposal our member answered.
"""

from __future__ import annotations

from activitypub import marketplace
from activitypub.marketplace import MarketplaceError, Terms
from activitypub.vocab import Document, as_list, id_of
from node.context import Node
from node.federation import remote
from node.federation.actors import local_actor_by_row_id
from node.storage import NoteRow

from .exchanges import MAX_ID, Result, dropped, ledger_entries, minutes_of, tell_parties
from .terms import OfferError

MAX_TITLE = 500


async def _answered(node: Node, object_id: str) -> tuple[NoteRow, str] | None:
    """Our member's response that an Accept names, with the member's actor id."""
    note = await node.store.note(object_id)
    if note is None or note.local_author_id is None:
        return None
    member = await local_actor_by_row_id(node.store, node.settings, note.local_author_id)
    return (note, member.actor_id) if member else None


def _problem(terms: Terms, note: NoteRow, member_id: str, actor_id: str) -> str | None:
    proposal_id = note.in_reply_to
    if not remote.same_origin(proposal_id, actor_id):
        return "accept by someone other than the proposer"
    agreement_id = terms.agreement_id or ""
    if not remote.same_origin(agreement_id, actor_id) or len(agreement_id) > MAX_ID:
        return "agreement id is not on the proposer's host"
    if terms.satisfies != marketplace.intent_id(proposal_id):
        return "agreement does not satisfy the proposal our member answered"
    if {terms.provider_id, terms.receiver_id} != {member_id, actor_id}:
        return "agreement parties are not our member and the proposer"
    return None


async def _proposal_title(node: Node, proposal_id: str, actor_id: str) -> str | None:
    """The proposal's title, fetched from its origin; None unless the actor is its author."""
    try:
        proposal = await remote.fetch_signed(node, proposal_id)
    except remote.RemoteError:
        return None
    authors = [id_of(author) for author in as_list(proposal.get("attributedTo"))]
    if id_of(proposal) != proposal_id or actor_id not in authors:
        return None
    name = proposal.get("name")
    return name[:MAX_TITLE] if isinstance(name, str) else ""


async def on_accept(node: Node, activity: Document, actor_id: str) -> Result:
    """FEP-0837 `Accept{object: <our member's response>, result: Agreement}`."""
    answered = await _answered(node, id_of(activity.get("object")) or "")
    if answered is None:
        return dropped("accept of nothing we asked")
    note, member_id = answered
    try:
        terms = marketplace.read_accept(activity)
        minutes = minutes_of(terms)
    except (MarketplaceError, OfferError) as exc:
        return dropped(str(exc))
    problem = _problem(terms, note, member_id, actor_id)
    if problem:
        return dropped(problem)
    assert terms.agreement_id and terms.provider_id and terms.receiver_id
    if await node.store.agreement(terms.agreement_id) is not None:
        return "duplicate", "agreement already recorded"
    title = await _proposal_title(node, note.in_reply_to, actor_id)
    if title is None:
        return dropped("accept by someone who is not the proposal's author")
    agreement = await node.store.insert_agreement(
        object_id=terms.agreement_id,
        offer_id=None,
        response_id=None,
        proposal_id=note.in_reply_to,
        title=title,
        proposer_id=actor_id,
        provider_id=terms.provider_id,
        receiver_id=terms.receiver_id,
        minutes=minutes,
    )
    await tell_parties(node, agreement, "agreement", actor_id)
    return "accepted", "our member's response was accepted: agreement recorded"


async def on_confirmation(node: Node, note: Document, actor_id: str) -> Result | None:
    """A Note whose `context` is an agreement another node made with our member: the hours
    are done; write them to our ledger. None when the note is no such confirmation."""
    try:
        terms = marketplace.read_confirmation(note)
    except MarketplaceError as exc:
        return dropped(str(exc))
    agreement = await node.store.agreement(terms.agreement_id or "") if terms else None
    if terms is None or agreement is None:
        return None
    if agreement.offer_id is not None or agreement.proposer_id != actor_id:
        return dropped("confirmation by someone other than the proposer")
    if (terms.provider_id, terms.receiver_id) != (agreement.provider_id, agreement.receiver_id):
        return dropped("confirmation names other parties than the agreement")
    try:
        minutes = minutes_of(terms)
    except OfferError as exc:
        return dropped(str(exc))
    if minutes is None:
        return dropped("confirmation without hours")
    entries = await ledger_entries(node, agreement.provider_id, agreement.receiver_id, minutes)
    if not await node.store.complete_agreement(agreement.id, minutes, entries):
        return "duplicate", "agreement already completed"
    await tell_parties(node, agreement, "hours", actor_id)
    return "accepted", "agreement completed by the proposer: hours written to the ledger"
