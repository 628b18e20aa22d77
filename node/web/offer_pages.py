"""Offers and requests for people: the board page (by kind, category, open or closed), the
terms on an offer's own page, and its author managing it there (match a response, close it,
complete the exchange) through node/offers/proposals.py, node/offers/matching.py and
node/offers/ledger.py, as the command line does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from node.accounts import sessions
from node.content.publishing import post_id
from node.context import Node
from node.federation.actors import LocalActor, local_actor
from node.offers import ledger, matching
from node.offers import proposals as offers
from node.offers.terms import KINDS, OfferError, category_slug, hours_label
from node.storage import OfferRow, PostRow

from . import i18n, paging, pictures
from .guards import for_members_form, text_field
from .i18n import N_
from .responses import error_page, node_of, render

STATES = (("open", N_("Open")), ("closed", N_("Closed")), ("all", N_("All")))
CLOSE_AS = ("fulfilled", "withdrawn")


@dataclass(frozen=True)
class OfferItem:
    post: PostRow
    offer: OfferRow
    author: LocalActor | None
    hours: str

    @property
    def path(self) -> str:
        return f"/posts/{self.post.public_id}"


async def items(node: Node, board: list[tuple[PostRow, OfferRow]]) -> list[OfferItem]:
    rows = await node.store.local_actors_by_row_id([post.author_id for post, _ in board])
    authors = {row_id: local_actor(node.settings, row) for row_id, row in rows.items()}
    return [
        OfferItem(
            post,
            offer,
            authors.get(post.author_id),
            hours_label(offer.minutes) if offer.minutes else "",
        )
        for post, offer in board
    ]


def _filters(request: Request) -> dict[str, str]:
    """Only values the board knows; anything else is ignored (not an error)."""
    query, settings = request.query_params, node_of(request).settings
    kind = query.get("kind", "")
    category = query.get("category", "").lower()
    state = query.get("state", "open")
    return {
        "kind": kind if kind in KINDS else "",
        "category": category if category in map(category_slug, settings.offer_categories) else "",
        "state": state if state in dict(STATES) else "open",
    }


async def board_page(request: Request) -> Response:
    node = node_of(request)
    chosen = _filters(request)
    board = await node.store.offers_page(
        paging.window(request),
        kind=chosen["kind"] or None,
        category=chosen["category"] or None,
        state=None if chosen["state"] == "all" else chosen["state"],
    )
    return render(
        request,
        "offers.html",
        offers=await items(node, board.items),
        pager=paging.links(request, board),
        filters=chosen,
        kinds=KINDS,
        categories=node.settings.offer_categories,
        states=STATES,
        chart=pictures.categories(
            await node.store.open_offers_by_category(),
            list(node.settings.offer_categories),
            i18n.language_of(request),
        ),
    )


async def offer_context(request: Request, post: PostRow) -> dict[str, Any] | None:
    """The offer's terms for its page; for its author (or an admin) also the responses and
    agreements to act on."""
    node = node_of(request)
    offer = await node.store.offer_of_post(post.id or 0)
    if offer is None:
        return None
    (item,) = await items(node, [(post, offer)])
    seen = sessions.viewer(request)
    manages = seen is not None and (seen.member_id == post.author_id or seen.admin)
    responses = await node.store.responses_to(offer.id) if manages else []
    return {
        "item": item,
        "manages": manages,
        "responses": [(r, n) for r, n in responses if n.status not in ("deleted", "rejected")],
        "agreements": await node.store.agreements(offer_id=offer.id) if manages else [],
        "close_as": CLOSE_AS,
    }


async def _act(node: Node, member: LocalActor, ref: str, form: FormData) -> None:
    action = text_field(form, "action", 16)
    if action == "match":
        number = text_field(form, "response", 12)
        await matching.match(node, member, ref, int(number) if number.isdigit() else 0)
    elif action == "close":
        await offers.close(node, member, ref, text_field(form, "status", 16))
    elif action == "complete":
        agreement = text_field(form, "agreement", 2048) or ref  # checked to be this offer's
        await ledger.complete(node, member, agreement, text_field(form, "hours", 16))
    else:
        raise OfferError("choose match, close or complete")


@for_members_form
async def manage(request: Request, member: LocalActor, form: FormData) -> Response:
    node = node_of(request)
    post = await node.store.post(request.path_params["public_id"])
    if post is None or post.deleted_at is not None or post.kind not in KINDS:
        return error_page(request, 404, "No such offer or request.")
    if not member.row.is_admin and member.row.id != post.author_id:
        return error_page(request, 403, "Only its author or an admin can manage this offer.")
    ref = post_id(node, post)
    if not await _agreement_is_this_offers(node, post, text_field(form, "agreement", 2048)):
        return error_page(request, 400, "That agreement is not about this offer.")
    try:
        await _act(node, member, ref, form)
    except OfferError as exc:
        return error_page(request, 400, exc)
    return RedirectResponse(f"/posts/{post.public_id}#manage", status_code=303)


async def _agreement_is_this_offers(node: Node, post: PostRow, agreement_id: str) -> bool:
    if not agreement_id:
        return True
    offer = await node.store.offer_of_post(post.id or 0)
    found = await node.store.agreement(agreement_id)
    return found is None or (offer is not None and found.offer_id == offer.id)
