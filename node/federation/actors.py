"""Local actors: the instance Application, the community Group and member Persons.

Ids derive from CONODE_URL and the username, so they are never stored; keys are sealed with the
node secret (node/ops/vault.py) before they reach the database.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

from activitypub import keys, objects, proofs
from activitypub.vocab import Document
from node.ops import vault
from node.settings import Settings
from node.storage import LocalActorRow, Store

Kind = Literal["Person", "Group", "Application"]
ED25519_FRAGMENT = "#ed25519-key"  # the FEP-521a Multikey in assertionMethod (FEP-8b32 proofs)
INSTANCE_USERNAME = "instance"
USERNAME_PATTERN = re.compile(r"^[a-z0-9_]{1,30}$")
# Names that would collide with node actors or confuse people reading a handle.
RESERVED_USERNAMES = frozenset({INSTANCE_USERNAME, "actor", "admin_api", "root", "webmaster"})
AVATAR_LARGE, AVATAR_SMALL = 400, 96  # square pixels: the actor's icon, and beside comments
AVATAR_SIZES = (AVATAR_LARGE, AVATAR_SMALL)
AVATAR_MEDIA_TYPE = "image/jpeg"


class ActorError(ValueError):
    """An actor that cannot be created as asked; the message says what to change."""


@dataclass(frozen=True)
class LocalActor:
    """A local actor with its URLs worked out."""

    row: LocalActorRow
    actor_id: str
    profile_url: str

    @property
    def username(self) -> str:
        return self.row.username

    @property
    def kind(self) -> str:
        return self.row.kind

    @property
    def key_id(self) -> str:
        return f"{self.actor_id}#main-key"

    @property
    def handle(self) -> str:
        return f"@{self.row.username}"


def actor_path(kind: str, username: str) -> str:
    if kind == "Application":
        return "/actor"
    if kind == "Group":
        return f"/groups/{username}"
    return f"/users/{username}"


def profile_path(kind: str, username: str) -> str:
    if kind == "Application":
        return "/about/node"
    return f"/@{username}"


def local_actor(settings: Settings, row: LocalActorRow) -> LocalActor:
    return LocalActor(
        row=row,
        actor_id=settings.url + actor_path(row.kind, row.username),
        profile_url=settings.url + profile_path(row.kind, row.username),
    )


async def local_actor_by_row_id(store: Store, settings: Settings, row_id: int) -> LocalActor | None:
    row = await store.local_actor_by_row_id(row_id)
    return local_actor(settings, row) if row else None


async def local_person(store: Store, settings: Settings, actor_id: str) -> LocalActor | None:
    """The member (not deleted) an actor id names, or None for anyone else."""
    prefix = f"{settings.url}{actor_path('Person', '')}"
    if not actor_id.startswith(prefix):
        return None
    row = await store.local_actor(actor_id.removeprefix(prefix))
    if row is None or row.kind != "Person" or row.deleted_at is not None:
        return None
    member = local_actor(settings, row)
    return member if member.actor_id == actor_id else None


def check_username(settings: Settings, username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_PATTERN.match(name):
        raise ActorError(
            f"username {username!r} is not allowed: use 1-30 lowercase letters, digits or _"
        )
    if name in RESERVED_USERNAMES or name == settings.group_handle:
        raise ActorError(f"username {name!r} is reserved for the node; choose another")
    return name


async def create_actor(
    store: Store,
    secret: bytes,
    *,
    username: str,
    kind: Kind,
    display_name: str,
    summary: str = "",
    is_admin: bool = False,
    password_hash: str | None = None,
) -> LocalActorRow:
    if await store.local_actor(username) is not None:
        raise ActorError(f"{username!r} already exists; pick another name")
    private_pem = keys.generate_private_pem()
    row = await store.insert_local_actor(
        username=username,
        kind=kind,
        display_name=display_name,
        summary=summary,
        is_admin=is_admin,
        password_hash=password_hash,
        public_key_pem=keys.public_pem_from_private(private_pem),
        private_key_sealed=vault.seal(secret, username, private_pem),
    )
    return await ensure_ed25519_key(store, secret, row)


def ed25519_owner(username: str) -> str:
    """What the sealed Ed25519 key is bound to (never the RSA key's binding)."""
    return f"{username}#ed25519"


async def ensure_ed25519_key(store: Store, secret: bytes, row: LocalActorRow) -> LocalActorRow:
    """The actor's row with its Ed25519 key, made and stored now if it had none."""
    if row.ed25519_public is not None:
        return row
    pem = proofs.generate_ed25519_pem()
    public = proofs.multikey(proofs.load_ed25519_pem(pem).public_key())
    sealed = vault.seal(secret, ed25519_owner(row.username), pem)
    await store.set_ed25519_key(row.id, public, sealed)
    fresh = await store.local_actor(row.username)
    assert fresh is not None
    return fresh


async def ensure_node_actors(store: Store, settings: Settings, secret: bytes) -> list[str]:
    """Create the instance and group actors if missing; returns what was created."""
    created: list[str] = []
    if await store.local_actor_of_kind("Application") is None:
        await create_actor(
            store,
            secret,
            username=INSTANCE_USERNAME,
            kind="Application",
            display_name=settings.name,
            summary=f"The server of {settings.name}; it signs this node's requests.",
        )
        created.append(f"instance actor {settings.url}{actor_path('Application', '')}")
    if await store.local_actor(settings.group_handle) is None:
        await create_actor(
            store,
            secret,
            username=settings.group_handle,
            kind="Group",
            display_name=settings.name,
            summary=f"Follow to see everything {settings.name} publishes.",
        )
        path = actor_path("Group", settings.group_handle)
        created.append(
            f"group actor @{settings.group_handle}@{settings.host} ({settings.url}{path})"
        )
    return created


def private_key(actor: LocalActor, secret: bytes) -> keys.PrivateKey:
    pem = vault.unseal(secret, actor.row.username, actor.row.private_key_sealed)
    return keys.PrivateKey(key_id=actor.key_id, pem=pem)


def public_key(actor: LocalActor) -> keys.PublicKey:
    return keys.PublicKey(key_id=actor.key_id, owner=actor.actor_id, pem=actor.row.public_key_pem)


def avatar_url(settings: Settings, row: LocalActorRow, size: int = AVATAR_LARGE) -> str | None:
    """Where a member's picture is served (node/accounts/profiles.py stores one per size)."""
    return f"{settings.url}/media/{row.avatar_id}-{size}" if row.avatar_id else None


def moved_notice(row: LocalActorRow) -> str | None:
    """Why a member who moved away may not publish here any more; None for everyone else."""
    if row.moved_to is None:
        return None
    return f"@{row.username} has moved to {row.moved_to} and no longer publishes here"


def aliases_of(row: LocalActorRow) -> list[str]:
    """The actor ids this actor says it also is (`alsoKnownAs`), as stored."""
    try:
        stored = json.loads(row.also_known_as or "[]")
    except ValueError:
        return []
    return [alias for alias in stored if isinstance(alias, str)] if isinstance(stored, list) else []


def actor_document(settings: Settings, actor: LocalActor) -> Document:
    row = actor.row
    kind: Kind = "Person"
    if row.kind in ("Group", "Application"):
        kind = "Group" if row.kind == "Group" else "Application"
    info = objects.ActorInfo(
        actor_id=actor.actor_id,
        type=kind,
        username=row.username,
        name=row.display_name,
        summary=row.summary,
        profile_url=actor.profile_url,
        shared_inbox_url=f"{settings.url}/inbox",
        public_key=public_key(actor),
        published=row.created_at,
        # The instance actor is infrastructure, not someone to follow or find in search.
        discoverable=row.kind != "Application",
        icon_url=avatar_url(settings, row),
        icon_media_type=AVATAR_MEDIA_TYPE if row.avatar_id else None,
        also_known_as=tuple(aliases_of(row)),
        moved_to=row.moved_to,
    )
    document = objects.actor(info)
    if row.ed25519_public is not None:
        context = document["@context"]
        extra = [proofs.DATA_INTEGRITY_CONTEXT, proofs.MULTIKEY_CONTEXT]
        document["@context"] = [*context[:-1], *extra, context[-1]]
        document["assertionMethod"] = [
            {
                "id": actor.actor_id + ED25519_FRAGMENT,
                "type": "Multikey",
                "controller": actor.actor_id,
                "publicKeyMultibase": row.ed25519_public,
            }
        ]
    if kind == "Group":  # the network feed (ActivityPub 4.1: supplementary collections)
        document["streams"] = [f"{settings.url}/network/feed"]
    return document
