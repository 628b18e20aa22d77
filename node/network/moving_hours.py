"""A member's hours move with them between two linked nodes (issue 18, Moving).

When a member of this node moves to an account on a node we are linked with, the hours they
hold move too, as an exchange both nodes sign (the shape of node/offers/remote_agreements.py):

1. The old node (here, at `conode user move`) records an Agreement `…/agreements/move-{token}`
   whose two parties are the old and the new account, and queues an `Offer{object: Agreement,
   instrument: <the Move>, target: <new account>}`, signed by the old account, to the new
   account's inbox.
2. The new node checks the Offer (a linked node, the Move is the sender's own, the new account
   is its member and lists the old one in `alsoKnownAs`, the old account's document, fetched
   fresh, says `movedTo` the new one), writes the opening entry and queues `Accept{object:
   <the Offer>, result: Agreement}`, signed by the new account.
3. The old node, on that Accept, writes the closing entry.

Each side writes both parties' entries (double entry), so each ledger sums to zero, and the
network's too: the old account ends at zero on both nodes, the new one holds the balance. Both
steps travel through the delivery queue (retried while the other node is down) and are written
once (the agreement's id is unique and it completes once).
"""

from __future__ import annotations

import hashlib
import secrets
from decimal import Decimal, InvalidOperation

from activitypub import marketplace
from activitypub.marketplace import HOUR, MarketplaceError, Terms
from activitypub.vocab import Document, id_of, type_of
from node.context import Node
from node.federation import delivery, remote
from node.federation.actors import LocalActor, aliases_of, local_person
from node.offers.exchanges import MAX_ID, Result, dropped, ledger_entries
from node.offers.terms import hours_text
from node.storage import LinkRow, RemoteActorRow

AGREEMENT_PATH = "/agreements/move-"
OFFER_SUFFIX = "/offer"
MAX_MOVED_HOURS = 1_000_000  # a sanity cap on what one move may carry


async def linked_node_of(node: Node, actor_id: str) -> LinkRow | None:
    """The link with the node `actor_id` lives on, when both sides have approved it."""
    for link in await node.store.links("linked"):
        if remote.same_origin(link.actor_id, actor_id):
            return link
    return None


def _parties(old_id: str, new_id: str, balance: int) -> tuple[str, str, int]:
    """(provider, receiver, minutes) of the entry that empties the old account into the new:
    a positive balance is given by the new account's side to the old (the old one is debited)."""
    return (new_id, old_id, balance) if balance > 0 else (old_id, new_id, -balance)


def _accept_id(new_id: str, agreement_id: str) -> str:
    digest = hashlib.sha256(agreement_id.encode()).hexdigest()[:24]
    return f"{new_id}/moves/accept-{digest}"


async def offer_hours(
    node: Node, member: LocalActor, target: RemoteActorRow, move: Document
) -> int | None:
    """Inside the move's transaction: record the agreement and queue its Offer to the new
    account. The minutes offered, or None when the target is not on a linked node or the
    member holds no hours."""
    if await linked_node_of(node, target.actor_id) is None:
        return None
    balance = await node.store.ledger_balance(member.actor_id)
    if balance == 0:
        return None
    provider, receiver, minutes = _parties(member.actor_id, target.actor_id, balance)
    agreement_id = f"{node.settings.url}{AGREEMENT_PATH}{secrets.token_urlsafe(12)}"
    title = f"Moved from @{member.username}@{node.settings.host} to {target.handle}"
    await node.store.insert_agreement(
        object_id=agreement_id,
        offer_id=None,
        response_id=None,
        proposal_id=target.actor_id,  # what the member's history links to: the other account
        title=title,
        proposer_id=member.actor_id,
        provider_id=provider,
        receiver_id=receiver,
        minutes=minutes,
    )
    info = marketplace.AgreementInfo(
        agreement_id, str(move["id"]), provider, receiver, hours_text(minutes)
    )
    offer: Document = {
        "@context": marketplace.CONTEXT,
        "id": agreement_id + OFFER_SUFFIX,
        "type": "Offer",
        "actor": member.actor_id,
        "object": marketplace.agreement(info) | {"name": title},
        "instrument": {k: v for k, v in move.items() if k != "@context"},
        "target": target.actor_id,
        "to": [target.actor_id],
    }
    await delivery.enqueue(
        node.store, activity=offer, sender=member.username, inbox_urls=[target.inbox_url]
    )
    return minutes


def _minutes(terms: Terms) -> int:
    """Whole quarter hours, more than none; raises MarketplaceError."""
    if terms.unit != HOUR or terms.value is None:
        raise MarketplaceError("the hours moved must be given in hours")
    try:
        value = Decimal(terms.value)
    except InvalidOperation:
        raise MarketplaceError("the hours moved are not a number") from None
    minutes = value * 60
    if not value.is_finite() or value <= 0 or value > MAX_MOVED_HOURS or minutes % 15:
        raise MarketplaceError("the hours moved must be a positive number of quarter hours")
    return int(minutes)


def _offer_problem(move: Document, terms: Terms, actor_id: str, new_id: str) -> str | None:
    if id_of(move.get("actor")) != actor_id or id_of(move.get("object")) != actor_id:
        return "hours offered for a move that is not the sender's own"
    if id_of(move.get("target")) != new_id or not remote.same_origin(id_of(move) or "", actor_id):
        return "hours offered for a move to another account"
    agreement_id = terms.agreement_id or ""
    if not remote.same_origin(agreement_id, actor_id) or len(agreement_id) > MAX_ID:
        return "agreement id is not on the old account's host"
    if terms.satisfies != id_of(move):
        return "agreement does not name the move"
    if {terms.provider_id, terms.receiver_id} != {actor_id, new_id}:
        return "agreement parties are not the old and the new account"
    return None


async def _moved_here(node: Node, actor_id: str, new_id: str) -> str | None:
    """Why the old account's own document (fetched fresh) does not say it moved to new_id."""
    try:
        document = await remote.fetch_signed(node, actor_id)
    except remote.RemoteError as exc:
        return exc.reason
    if id_of(document.get("id")) != actor_id or id_of(document.get("movedTo")) != new_id:
        return f"{actor_id} does not say it moved to {new_id}"
    return None


async def on_offer(node: Node, activity: Document, actor_id: str) -> Result | None:
    """The new node's side: an Offer of hours for a move to one of our members. None when the
    Offer carries no Move (a FEP-0837 offer: node/offers/exchanges.py takes it)."""
    move = activity.get("instrument")
    if not isinstance(move, dict) or type_of(move) != "Move":
        return None
    if await linked_node_of(node, actor_id) is None:
        return dropped("hours moved from a node we are not linked with")
    new_id = id_of(activity.get("target")) or ""
    member = await local_person(node.store, node.settings, new_id)
    if member is None:
        return dropped("hours moved to an account that is not a member here")
    if actor_id not in aliases_of(member.row):
        return dropped(f"move refused: {new_id} does not list {actor_id} in alsoKnownAs")
    try:
        terms = marketplace.read_offer(activity)
        minutes = _minutes(terms)
    except MarketplaceError as exc:
        return dropped(str(exc))
    problem = _offer_problem(move, terms, actor_id, new_id) or await _moved_here(
        node, actor_id, new_id
    )
    if problem:
        return dropped(problem)
    assert terms.agreement_id and terms.provider_id and terms.receiver_id
    if await node.store.agreement(terms.agreement_id) is not None:
        return "duplicate", "hours of this move already written"
    old = await remote.get_actor(node, actor_id)
    title = f"Moved from {old.handle} to @{member.username}@{node.settings.host}"
    result = dict(activity["object"]) | {"name": title}
    accept = marketplace.accept_offer(
        _accept_id(new_id, terms.agreement_id), new_id, str(activity["id"]), result, actor_id
    )
    entries = await ledger_entries(node, terms.provider_id, terms.receiver_id, minutes)
    async with node.store.transaction():
        agreement = await node.store.insert_agreement(
            object_id=terms.agreement_id,
            offer_id=None,
            response_id=None,
            proposal_id=actor_id,  # the history links to the other account
            title=title,
            proposer_id=actor_id,
            provider_id=terms.provider_id,
            receiver_id=terms.receiver_id,
            minutes=minutes,
        )
        await node.store.complete_agreement(agreement.id, minutes, entries)
        await delivery.enqueue(
            node.store, activity=accept, sender=member.username, inbox_urls=[old.inbox_url]
        )
    return "accepted", f"hours moved here from {old.handle}: opening entry written"


async def on_accept(node: Node, activity: Document, actor_id: str) -> Result | None:
    """The old node's side: the new account accepted the hours. None when the Accept is not
    of a move's Offer of ours."""
    offer_id = id_of(activity.get("object")) or ""
    prefix = f"{node.settings.url}{AGREEMENT_PATH}"
    if not (offer_id.startswith(prefix) and offer_id.endswith(OFFER_SUFFIX)):
        return None
    agreement = await node.store.agreement(offer_id.removesuffix(OFFER_SUFFIX))
    if agreement is None:
        return dropped("accept of hours we did not offer")
    members = f"{node.settings.url}/users/"
    member = await node.store.local_actor(agreement.proposer_id.removeprefix(members))
    if member is None or member.moved_to != actor_id or not actor_id:
        return dropped("accept by someone other than the account our member moved to")
    try:
        terms = marketplace.read_accept(activity)
    except MarketplaceError as exc:
        return dropped(str(exc))
    agreed = (agreement.object_id, agreement.provider_id, agreement.receiver_id)
    if (terms.agreement_id, terms.provider_id, terms.receiver_id) != agreed:
        return dropped("accepted agreement is not the one we offered")
    minutes = agreement.minutes or 0
    entries = await ledger_entries(node, agreement.provider_id, agreement.receiver_id, minutes)
    if not await node.store.complete_agreement(agreement.id, minutes, entries):
        return "duplicate", "hours of this move already written"
    return "accepted", f"hours moved to {actor_id}: closing entry written"
