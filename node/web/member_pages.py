"""A member's own pages: /notifications (newest first; those not seen before are marked and
become read once shown) and /@name/hours (the balance, each exchange: date, with whom, what
for, hours; and a chart of hours given and received by month), for the member and admins."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from node.accounts import sessions
from node.federation.actors import LocalActor, local_actor
from node.notifications import listing
from node.offers import ledger, monthly
from node.offers.exchanges import handle_of
from node.storage import utcnow

from . import i18n
from .guards import for_members
from .responses import error_page, node_of, render


@for_members
async def notifications_page(request: Request, member: LocalActor) -> Response:
    node = node_of(request)
    notices = await listing.notices(node.store, node.settings, member.row.id)
    unread = [notice.id for notice in notices if not notice.read]
    if unread:
        await node.store.mark_notifications_read(member.row.id, max(unread))
        request.scope[sessions.UNREAD_KEY] = 0  # seen now: the header says so
    return render(request, "notifications.html", notices=notices)


@for_members
async def hours_page(request: Request, member: LocalActor) -> Response:
    node = node_of(request)
    row = await node.store.local_actor(request.path_params["username"].lower())
    if row is None or row.kind != "Person" or row.deleted_at is not None:
        return error_page(request, 404, "No member by that name here.")
    if row.id != member.row.id and not member.row.is_admin:
        return error_page(request, 403, "Only the member and the node's admins see their hours.")
    owner = local_actor(node.settings, row)
    entries = await ledger.history(node, owner.actor_id)
    balance = sum(entry.minutes for entry in entries)
    months = monthly.by_month(entries, utcnow())
    history = [
        (entry, await handle_of(node, entry.counterparty), _signed(request, entry.minutes))
        for entry in reversed(entries)
    ]
    return render(
        request,
        "hours.html",
        owner=owner,
        balance=_signed(request, balance),
        history=history,
        months=months,
        bars=monthly.bars(months),
        chart=monthly,
    )


def _signed(request: Request, minutes: int) -> str:
    sign = "+" if minutes > 0 else "\u2212" if minutes < 0 else ""  # a minus sign, not a hyphen
    return sign + i18n.hours_label(request, abs(minutes))
