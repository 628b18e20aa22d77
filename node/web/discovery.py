"""Discovery endpoints: WebFinger, host-meta, NodeInfo."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from activitypub import nodeinfo, webfinger
from activitypub.vocab import JRD_JSON, NODEINFO_21_PROFILE
from node import __version__
from node.content import identity
from node.context import Node
from node.federation.actors import LocalActor, local_actor
from node.network import links

from .responses import json_response, node_of

CORS = {"Access-Control-Allow-Origin": "*"}


def _error(status_code: int, message: str) -> Response:
    return Response(message + "\n", status_code=status_code, media_type="text/plain", headers=CORS)


async def _resolve_resource(node: Node, resource: str) -> LocalActor | None:
    """Find our actor for an acct:, an actor URL, a profile URL, or the bare host."""
    settings = node.settings
    if resource.startswith(("http://", "https://")):
        if resource.rstrip("/") in (settings.url, f"{settings.url}/actor"):
            row = await node.store.local_actor_of_kind("Application")
            return local_actor(settings, row) if row else None
        if not resource.startswith(settings.url + "/"):
            return None
        path = urlsplit(resource).path
        username = path.rstrip("/").rsplit("/", 1)[-1].lstrip("@")
        row = await node.store.local_actor(username)
        if row is None:
            return None
        actor = local_actor(settings, row)
        return actor if resource in (actor.actor_id, actor.profile_url) else None
    acct = webfinger.parse_acct(resource)
    if acct.host != settings.host:
        return None
    row = await node.store.local_actor(acct.user.lower())
    return local_actor(settings, row) if row else None


async def webfinger_endpoint(request: Request) -> Response:
    resource = request.query_params.get("resource", "").strip()
    if not resource:
        return _error(400, "missing ?resource= (acct:name@host or an actor URL)")
    node = node_of(request)
    try:
        actor = await _resolve_resource(node, resource)
    except webfinger.WebFingerError as exc:
        return _error(400, str(exc))
    if actor is None:
        return _error(404, f"no such account here: {resource}")
    if actor.row.deleted_at is not None:
        return _error(410, f"this account was deleted: {resource}")
    acct = webfinger.Acct(user=actor.username, host=node.settings.host)
    links = webfinger.JrdLinks(
        actor_id=actor.actor_id,
        profile_url=actor.profile_url,
        subscribe_template=f"{node.settings.url}/authorize_interaction?uri={{uri}}",
    )
    document = webfinger.jrd(acct, links, aliases=[actor.actor_id, actor.profile_url])
    return json_response(document, media_type=JRD_JSON, headers=CORS)


async def host_meta(request: Request) -> Response:
    xrd = webfinger.host_meta_xrd(node_of(request).settings.url)
    return Response(xrd, media_type="application/xrd+xml", headers=CORS)


async def nodeinfo_index(request: Request) -> Response:
    settings = node_of(request).settings
    index = nodeinfo.well_known_index(f"{settings.url}/nodeinfo/2.1", f"{settings.url}/actor")
    return json_response(index, headers=CORS)


async def nodeinfo_document(request: Request) -> Response:
    node = node_of(request)
    members = await node.store.count_local_actors("Person")
    info = nodeinfo.NodeInfo(
        software_name="conode",
        software_version=__version__,
        open_registrations=False,
        usage=nodeinfo.Usage(
            users_total=members,
            # Until sign-in exists, every member counts as active.
            users_active_month=members,
            users_active_halfyear=members,
            local_posts=await node.store.count_posts(),
        ),
        metadata={
            "nodeName": identity.current(node).name,
            "groupActor": f"{node.settings.url}/groups/{node.settings.group_handle}",
            "networkFeed": f"{node.settings.url}/network/feed",
            "linkedNodes": [
                links.node_url(link.actor_id) for link in await node.store.links("linked")
            ],
        },
    )
    media_type = f'application/json; profile="{NODEINFO_21_PROFILE}"'
    return json_response(nodeinfo.document(info), media_type=media_type, headers=CORS)
