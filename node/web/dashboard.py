"""/admin: the admin dashboard. The figures `conode doctor` reports (node/ops/doctor.py), one
line per check with what to do, and a chart of deliveries and inbound activities per hour over
the last day (server-rendered SVG; no script, nothing loaded from elsewhere)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from node.federation.actors import LocalActor
from node.ops import activity, doctor
from node.storage import utcnow

from .guards import for_admins
from .responses import node_of, render


@for_admins
async def dashboard(request: Request, member: LocalActor) -> Response:
    node = node_of(request)
    checks = await doctor.examine(node.settings, store=node.store, http=node.http)
    hours = await activity.last_day(node.store, utcnow())
    return render(
        request,
        "dashboard.html",
        section="dashboard",
        checks=checks,
        healthy=doctor.healthy(checks),
        hours=hours,
        bars=activity.bars(hours),
        chart=activity,
        deliveries=sum(hour.deliveries for hour in hours),
        inbound=sum(hour.inbound for hour in hours),
    )
