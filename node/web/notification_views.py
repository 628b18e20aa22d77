"""/notifications: a member's notifications, newest first; those not seen before are marked
and become read once shown."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from node.accounts import sessions
from node.federation.actors import LocalActor
from node.notifications import listing

from .guards import for_members
from .responses import node_of, render


@for_members
async def notifications_page(request: Request, member: LocalActor) -> Response:
    node = node_of(request)
    notices = await listing.notices(node.store, node.settings, member.row.id)
    unread = [notice.id for notice in notices if not notice.read]
    if unread:
        await node.store.mark_notifications_read(member.row.id, max(unread))
        request.scope[sessions.UNREAD_KEY] = 0  # seen now: the header says so
    return render(request, "notifications.html", notices=notices)
