"""Remote actors: fetched with a signed GET, checked for origin, cached with their keys.

Also the key lookup the inbox hands to `verify_request`: it only ever returns a key that the
owning actor's own document claims, so a key document cannot lend itself to another actor.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from urllib.parse import urlsplit

from activitypub import client, proofs, webfinger
from activitypub.auth import HttpSignatureAuth, host_of_url
from activitypub.keys import PublicKey
from activitypub.signatures import SignatureError, verify_request
from activitypub.vocab import JRD_JSON, Document, as_list, id_of
from node.context import Node
from node.storage import RemoteActorRow, utcnow

from . import knocking, limits
from .actors import local_actor, private_key

logger = logging.getLogger(__name__)

ACTOR_TYPES = frozenset({"Person", "Group", "Service", "Application", "Organization"})
# Actor documents are re-fetched when older than this (profile edits, moved inboxes).
ACTOR_MAX_AGE = timedelta(days=2)


class RemoteError(Exception):
    """A remote actor or object we cannot use; `reason` goes to the activity log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # a broken authority ("http://[::1") has no host
        return ""


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    except ValueError:
        return None
    return (parts.scheme, (parts.hostname or "").lower(), port) if parts.hostname else None


def same_origin(a: str, b: str) -> bool:
    """Same scheme, host and port: the rule for who may speak for an object."""
    origin = _origin(a)
    return origin is not None and origin == _origin(b)


def _without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


async def fetch_signed(
    node: Node, url: str, *, accept: str | None = None, stay_on_origin: bool = True
) -> Document:
    """GET a document, signed by our instance actor (servers in secure mode require it).
    Redirects stay on the URL's origin unless asked otherwise (WebFinger may delegate)."""
    row = await node.store.local_actor_of_kind("Application")
    auth = None
    known: dict[str, str] = {}
    if row is not None:
        key = private_key(local_actor(node.settings, row), node.secret)
        known = await knocking.known_schemes(node.store, [host_of_url(url)])
        auth = HttpSignatureAuth(key, known=known)
    kwargs = {"accept": accept} if accept else {}
    try:
        fetched = await client.fetch_located(
            node.http, url, node.fetch_policy, auth=auth, same_origin=stay_on_origin, **kwargs
        )
        limits.check_document(fetched.document)
    except client.FetchError as exc:
        raise RemoteError(f"fetch {url}: {exc.reason}") from exc
    except limits.LimitError as exc:
        raise RemoteError(f"fetch {url}: {exc.reason}") from exc
    finally:
        if auth is not None:
            await knocking.remember(node.store, auth.accepted, known)
    claimed = fetched.document.get("id")
    # A redirect may lead anywhere: a document speaks only for the host that served it
    # (an open redirect must not let another server answer for this one).
    if isinstance(claimed, str) and not same_origin(claimed, fetched.url):
        raise RemoteError(f"fetch {url}: document id is not on the host that served it")
    return fetched.document


def _public_key_of(document: Document, key_id: str | None = None) -> tuple[str, str] | None:
    """(key id, PEM) of the actor's key, the one matching key_id when given."""
    for key in as_list(document.get("publicKey")):
        if not isinstance(key, dict):
            continue
        pem = key.get("publicKeyPem")
        kid = key.get("id")
        if isinstance(pem, str) and isinstance(kid, str) and (key_id is None or kid == key_id):
            return kid, pem
    return None


def actor_row(document: Document, fetched_from: str, key_id: str | None = None) -> RemoteActorRow:
    """Validate an actor document and turn it into a row; raises RemoteError."""
    actor_id = document.get("id")
    # Exactly the URL fetched: any other document on the same host (an upload, say) must not
    # be able to speak for an actor.
    if actor_id != fetched_from:
        raise RemoteError("actor id does not match where it was fetched from")
    if document.get("type") not in ACTOR_TYPES:
        raise RemoteError(f"not an actor: {document.get('type')!r}")
    inbox = document.get("inbox")
    if not isinstance(inbox, str):
        raise RemoteError("actor has no inbox")
    key = _public_key_of(document, key_id)
    if key is None:
        raise RemoteError("actor has no matching public key")
    endpoints = document.get("endpoints")
    shared = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
    return RemoteActorRow(
        actor_id=actor_id,
        host=host_of(actor_id),
        type=str(document["type"]),
        username=str(document.get("preferredUsername") or ""),
        name=str(document.get("name") or "")[:500],
        profile_url=id_of(document.get("url")),
        inbox_url=inbox,
        shared_inbox_url=shared if isinstance(shared, str) else None,
        key_id=key[0],
        public_key_pem=key[1],
        fetched_at=utcnow(),
        icon_url=_icon_url(document.get("icon")),
        assertion_keys=json.dumps(proofs.assertion_keys(document)) or None,
    )


def _icon_url(icon: object) -> str | None:
    """The picture's URL (`icon` may be an Image, a list of them or a bare URL); http(s) only."""
    if isinstance(icon, list):
        icon = icon[0] if icon else None
    url = icon.get("url") if isinstance(icon, dict) else icon
    url = id_of(url) if isinstance(url, dict | list) else url
    if isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= 2048:
        return url
    return None


async def refresh_actor(node: Node, actor_id: str) -> RemoteActorRow:
    document = await fetch_signed(node, actor_id)
    row = actor_row(document, actor_id)
    if row.actor_id != actor_id:
        raise RemoteError("actor id does not match the URL")
    await node.store.upsert_remote_actor(row)
    return row


async def get_actor(
    node: Node, actor_id: str, *, max_age: timedelta = ACTOR_MAX_AGE
) -> RemoteActorRow:
    row = await node.store.remote_actor(actor_id)
    if row is not None and utcnow() - row.fetched_at < max_age:
        return row
    return await refresh_actor(node, actor_id)


async def _actor_for_key(node: Node, key_id: str) -> RemoteActorRow:
    document = await fetch_signed(node, _without_fragment(key_id))
    if "publicKey" in document:
        # The common case: the key is part of the actor (…/users/alice#main-key).
        row = actor_row(document, _without_fragment(key_id), key_id)
    else:
        # A separate key document (GoToSocial's …/main-key): its owner must claim it.
        owner = document.get("owner")
        if document.get("id") != key_id or not isinstance(owner, str):
            raise RemoteError("key document is not the key it claims to be")
        if not same_origin(owner, key_id):
            raise RemoteError("key document has no owner on its own host")
        row = actor_row(await fetch_signed(node, owner), owner, key_id)
        if row.actor_id != owner:
            raise RemoteError("key owner id does not match")
    await node.store.upsert_remote_actor(row)
    return row


async def lookup_key(node: Node, key_id: str, *, refresh: bool = False) -> PublicKey:
    """The key, from memory, the database, or its owner's server (node/cache/keys.py)."""
    cached = None if refresh else node.keys.get(key_id)
    if cached is not None:
        return cached
    if node.keys.recently_failed(key_id):
        raise SignatureError("key fetch failed")
    row = None if refresh else await node.store.remote_actor_by_key(key_id)
    if row is None:
        try:
            row = await _actor_for_key(node, key_id)
        except RemoteError as exc:
            logger.info("key %s: %s", key_id, exc.reason)
            node.keys.failed(key_id)
            raise SignatureError("key fetch failed") from exc
    key = PublicKey(key_id=row.key_id, owner=row.actor_id, pem=row.public_key_pem)
    node.keys.put(key)
    return key


async def verify_signature(
    node: Node, method: str, target: str, headers: dict[str, str], body: bytes
) -> str:
    """verify_request with this node's key lookup (and one re-fetch on a rotated key);
    returns the signer's actor id or raises SignatureError."""

    async def lookup(key_id: str) -> PublicKey:
        return await lookup_key(node, key_id)

    async def refetch(key_id: str) -> PublicKey:
        return await lookup_key(node, key_id, refresh=True)

    scheme = node.settings.url.split("://")[0]
    return await verify_request(
        method, target, headers, body, lookup, refetch=refetch, scheme=scheme
    )


async def resolve_account(node: Node, account: str) -> RemoteActorRow:
    """`@user@host`, `user@host` or an actor URL → the actor, fetched and cached."""
    if account.startswith(("http://", "https://")):
        return await get_actor(node, account)
    try:
        acct = webfinger.parse_acct(account)
    except webfinger.WebFingerError as exc:
        raise RemoteError(str(exc)) from exc
    scheme = "http" if node.settings.allow_private_networks and ":" in acct.host else "https"
    url = webfinger.webfinger_url(acct, scheme)
    jrd = await fetch_signed(node, url, accept=JRD_JSON, stay_on_origin=False)
    actor_id = webfinger.self_link(jrd)
    if actor_id is None:
        raise RemoteError(f"{acct.handle} has no ActivityPub actor")
    return await get_actor(node, actor_id)
