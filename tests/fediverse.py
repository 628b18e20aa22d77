"""A small fediverse for tests: in-process servers reached through one routing transport.

`Fediverse` routes each request by host to an ASGI app (the node under test, fake peers), so
every request is real HTTP handled by real apps. `FakeServer` is a remote server with its own
keys: it serves WebFinger and actors, signs what it sends exactly as Mastodon does (or, with
style="other", as other servers do: hs2019, ld+json, compact addressing), and verifies what it
receives as Mastodon would before accepting it.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from activitypub import keys
from activitypub.keys import PrivateKey, PublicKey
from activitypub.signatures import SignatureError, sign_request, verify_request

from . import independent_proofs

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
Style = Literal["mastodon", "other"]
# Which HTTP signatures a server reads: Mastodon < 4.5 only draft-cavage, a Fedify server or
# Mastodon >= 4.5 configured strictly only RFC 9421; "any" reads both.
Accepts = Literal["any", "rfc9421", "draft-cavage"]
Visibility = Literal["public", "unlisted", "private", "direct"]

# Generating RSA keys is slow; fake servers share a small pool (each user still has its own).
_KEY_POOL: list[str] = []


def _pooled_key(index: int) -> str:
    while len(_KEY_POOL) <= index:
        _KEY_POOL.append(keys.generate_private_pem())
    return _KEY_POOL[index]


class Fediverse(httpx.AsyncBaseTransport):
    """Routes requests by host (with port) to ASGI apps; unknown hosts fail to connect."""

    def __init__(self) -> None:
        self._hosts: dict[str, httpx.ASGITransport] = {}

    def add(self, host: str, app: Any) -> None:
        self._hosts[host] = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.netloc.decode()
        transport = self._hosts.get(host)
        if transport is None:
            raise httpx.ConnectError(f"no route to {host}", request=request)
        return await transport.handle_async_request(request)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self)


@dataclass
class Received:
    path: str
    activity: dict[str, Any]
    signer: str


@dataclass
class FakeServer:
    host: str
    fediverse: Fediverse
    style: Style = "mastodon"
    users: dict[str, str] = field(default_factory=dict)  # name -> private PEM
    inbox: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    actor_types: dict[str, str] = field(default_factory=dict)  # name -> type, else Person
    gone: set[str] = field(default_factory=set)  # deleted: their actor answers 410, as Mastodon
    scheme: str = "https"  # "http" for a peer served by uvicorn on a loopback port
    # Not "any": the server reads only that signature scheme, answers 401 to the other (as
    # Mastodon does to a signature it cannot read) and, in secure mode, wants GETs signed too.
    accepts: Accepts = "any"
    knocks: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, scheme)
    also_known_as: dict[str, list[str]] = field(default_factory=dict)  # name -> alsoKnownAs
    moved_to: dict[str, str] = field(default_factory=dict)  # name -> movedTo
    # name -> Ed25519 key published as a FEP-521a Multikey in assertionMethod (FEP-8b32)
    multikeys: dict[str, Ed25519PrivateKey] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100))

    def __post_init__(self) -> None:
        self.fediverse.add(self.host, self.app())

    # --- identity ---

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def add_user(self, name: str) -> str:
        self.users[name] = _pooled_key(len(_KEY_POOL))
        return self.actor_id(name)

    def actor_id(self, name: str) -> str:
        return f"{self.base_url}/users/{name}"

    def handle(self, name: str) -> str:
        return f"@{name}@{self.host}"

    def actor(self, name: str) -> dict[str, Any]:
        actor_id = self.actor_id(name)
        return (
            {
                "@context": [
                    "https://www.w3.org/ns/activitystreams",
                    "https://w3id.org/security/v1",
                ],
                "id": actor_id,
                "type": self.actor_types.get(name, "Person"),
                "preferredUsername": name,
                "name": name.title(),
                "inbox": f"{actor_id}/inbox",
                "outbox": f"{actor_id}/outbox",
                "followers": f"{actor_id}/followers",
                "url": f"{self.base_url}/@{name}",
                "endpoints": {"sharedInbox": f"{self.base_url}/inbox"},
                "publicKey": {
                    "id": f"{actor_id}#main-key",
                    "owner": actor_id,
                    "publicKeyPem": keys.public_pem_from_private(self.users[name]),
                },
            }
            | self._moving(name)
            | self._assertion_method(name)
        )

    def _moving(self, name: str) -> dict[str, Any]:
        """Mastodon's moving terms on the actor, when set."""
        terms: dict[str, Any] = {}
        if name in self.also_known_as:
            terms["alsoKnownAs"] = self.also_known_as[name]
        if name in self.moved_to:
            terms["movedTo"] = self.moved_to[name]
        return terms

    def _assertion_method(self, name: str) -> dict[str, Any]:
        if name not in self.multikeys:
            return {}
        actor_id = self.actor_id(name)
        multibase = independent_proofs.multibase(self.multikeys[name].public_key())
        method = {"id": f"{actor_id}#ed25519-key", "type": "Multikey", "controller": actor_id}
        return {"assertionMethod": [method | {"publicKeyMultibase": multibase}]}

    # --- what it serves ---

    def app(self) -> Starlette:
        async def webfinger(request: Request) -> Response:
            resource = request.query_params.get("resource", "")
            name = resource.removeprefix("acct:").split("@")[0]
            if name not in self.users:
                return Response(status_code=404)
            link = {"rel": "self", "type": "application/activity+json", "href": self.actor_id(name)}
            links = [link]
            if self.style == "mastodon":  # Mastodon's remote-interaction template
                template = f"{self.base_url}/authorize_interaction?uri={{uri}}"
                links.append(
                    {"rel": "http://ostatus.org/schema/1.0/subscribe", "template": template}
                )
            return JSONResponse({"subject": resource, "links": links})

        async def actor(request: Request) -> Response:
            refused = await self._check_get(request)
            if refused is not None:
                return refused
            name = request.path_params["name"]
            if name not in self.users:
                return Response(status_code=404)
            if name in self.gone:
                return Response(status_code=410)
            return JSONResponse(self.actor(name), media_type="application/activity+json")

        async def obj(request: Request) -> Response:
            refused = await self._check_get(request)
            if refused is not None:
                return refused
            document = self.objects.get(str(request.url))
            if document is None:
                return Response(status_code=404)
            return JSONResponse(document, media_type="application/activity+json")

        async def inbox(request: Request) -> Response:
            return await self._receive(request)

        return Starlette(
            routes=[
                Route("/.well-known/webfinger", webfinger),
                Route("/users/{name}", actor),
                Route("/users/{name}/inbox", inbox, methods=["POST"]),
                Route("/inbox", inbox, methods=["POST"]),
                Route("/users/{name}/statuses/{id}", obj),
                Route("/network/blocks.json", obj),  # a linked conode's shared blocks
            ]
        )

    def _knocked(self, request: Request) -> str:
        """Record which scheme signed the request; returns it."""
        headers = request.headers
        scheme = "none"
        if "signature-input" in headers:
            scheme = "rfc9421"
        elif "signature" in headers:
            scheme = "draft-cavage"
        self.knocks.append((request.method, request.url.path, scheme))
        return scheme

    def knocks_with(self, scheme: str) -> int:
        return sum(1 for _, _, used in self.knocks if used == scheme)

    async def _lookup(self, key_id: str) -> PublicKey:
        async with self.fediverse.client() as http:
            response = await http.get(
                key_id.split("#")[0], headers={"Accept": "application/activity+json"}
            )
        document = response.json()
        key = document["publicKey"]
        if key["id"] != key_id:
            raise SignatureError("key fetch failed")
        return PublicKey(key_id=key_id, owner=document["id"], pem=key["publicKeyPem"])

    async def _check_get(self, request: Request) -> Response | None:
        """Secure mode, for a server that reads one scheme only: a GET must be signed with it."""
        scheme = self._knocked(request)
        if self.accepts == "any":
            return None
        if scheme != self.accepts:
            self.refused.append(f"GET signed with {scheme}")
            return Response(status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            await verify_request(
                "GET", target, request.headers, b"", self._lookup, scheme=self.scheme
            )
        except SignatureError as exc:
            self.refused.append(exc.reason)
            return Response(exc.reason, status_code=401)
        return None

    async def _receive(self, request: Request) -> Response:
        """Verify like Mastodon: a signed digest, (request-target) host date, key by keyId."""
        body = await request.body()
        scheme = self._knocked(request)
        if self.accepts != "any" and scheme != self.accepts:
            self.refused.append(f"signed with {scheme}")
            return Response("Request not signed", status_code=401)
        try:
            signer = await verify_request(
                "POST", request.url.path, request.headers, body, self._lookup, scheme=self.scheme
            )
        except SignatureError as exc:
            self.refused.append(exc.reason)
            return Response(exc.reason, status_code=401)
        activity = json.loads(body)
        if activity.get("actor") != signer:
            self.refused.append("signer is not the actor")
            return Response(status_code=401)
        self.inbox.append(Received(request.url.path, activity, signer))
        return Response(status_code=202)

    # --- what it sends ---

    async def send(self, name: str, activity: dict[str, Any], inbox_url: str) -> httpx.Response:
        body = json.dumps(activity).encode()
        key = PrivateKey(key_id=f"{self.actor_id(name)}#main-key", pem=self.users[name])
        if self.style == "mastodon":
            content_type = "application/activity+json"
            signed = sign_request("POST", inbox_url, {}, body, key)
        else:
            content_type = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
            signed = sign_request("POST", inbox_url, {}, body, key)
            signed["Signature"] = signed["Signature"].replace('"rsa-sha256"', '"hs2019"')
        headers = {"Content-Type": content_type, **signed}
        async with self.fediverse.client() as http:
            return await http.post(inbox_url, content=body, headers=headers)

    def new_id(self, name: str) -> str:
        return f"{self.actor_id(name)}/statuses/{next(self._ids)}"

    def follow(self, name: str, target: str) -> dict[str, Any]:
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{self.base_url}/{next(self._ids)}",
            "type": "Follow",
            "actor": self.actor_id(name),
            "object": target,
        }

    def undo(self, name: str, inner: dict[str, Any]) -> dict[str, Any]:
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{self.actor_id(name)}#undo/{next(self._ids)}",
            "type": "Undo",
            "actor": self.actor_id(name),
            "object": {k: v for k, v in inner.items() if k != "@context"},
        }

    def _addressing(
        self, name: str, mentioned: list[str], visibility: Visibility
    ) -> tuple[Any, Any]:
        public: str = PUBLIC if self.style == "mastodon" else "as:Public"
        followers = f"{self.actor_id(name)}/followers"
        if visibility == "public":
            to: Any = [public]
            cc: Any = [followers, *mentioned]
        elif visibility == "unlisted":
            to, cc = [followers], [public, *mentioned]
        elif visibility == "private":
            to, cc = [followers, *mentioned], []
        else:
            to, cc = list(mentioned), []
        if self.style == "other" and len(cc) == 1:
            cc = cc[0]  # some servers send a single recipient as a string
        return to, cc

    def reply(
        self,
        name: str,
        in_reply_to: str,
        text: str,
        *,
        mention: tuple[str, str] | None = None,
        visibility: Visibility = "public",
        note_id: str | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        """The Create(Note) Mastodon sends for a reply (captured shape, 4.x); with `language`,
        its `contentMap` too, as Mastodon sends when the toot's language is known."""
        object_id = note_id or self.new_id(name)
        mentioned = [mention[0]] if mention else []
        to, cc = self._addressing(name, mentioned, visibility)
        content = f"<p>{text}</p>"
        tags: list[dict[str, Any]] = []
        if mention:
            href, handle = mention
            user = handle.lstrip("@").split("@")[0]
            content = (
                f'<p><span class="h-card" translate="no"><a href="{href}" class="u-url mention">'
                f"@<span>{user}</span></a></span> {text}</p>"
            )
            tags.append({"type": "Mention", "href": href, "name": handle})
        published = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        reply_ref: Any = in_reply_to
        if self.style == "other":
            reply_ref = {"type": "Link", "href": in_reply_to}
        note = {
            "id": object_id,
            "type": "Note",
            "summary": None,
            "inReplyTo": reply_ref,
            "published": published,
            "url": f"{self.base_url}/@{name}/{object_id.rsplit('/', 1)[-1]}",
            "attributedTo": self.actor_id(name),
            "to": to,
            "cc": cc,
            "sensitive": False,
            "content": content,
            "tag": tags,
            "attachment": [],
        }
        if language:
            note["contentMap"] = {language: content}
        self.objects[object_id] = {"@context": "https://www.w3.org/ns/activitystreams", **note}
        return {
            "@context": [
                "https://www.w3.org/ns/activitystreams",
                {"sensitive": "as:sensitive", "toot": "http://joinmastodon.org/ns#"},
            ],
            "id": f"{object_id}/activity",
            "type": "Create",
            "actor": self.actor_id(name),
            "published": published,
            "to": to,
            "cc": cc,
            "object": note,
        }

    def simple(self, name: str, type_: str, obj: Any) -> dict[str, Any]:
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{self.base_url}/activities/{next(self._ids)}",
            "type": type_,
            "actor": self.actor_id(name),
            "object": obj,
        }

    def move(self, name: str, target: str) -> dict[str, Any]:
        """Mastodon's Move: the account itself (actor = object) moved to `target`."""
        return self.simple(name, "Move", self.actor_id(name)) | {"target": target}

    def received(self, type_: str) -> list[dict[str, Any]]:
        return [r.activity for r in self.inbox if r.activity.get("type") == type_]
