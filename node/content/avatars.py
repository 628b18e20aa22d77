"""Pictures of people from other servers: fetched once by the worker through the guarded client
(no private addresses, a size cap, redirects checked), checked and made small like uploads,
kept in the database and served from our origin, so a page loads nothing from elsewhere and
the CSP stays `img-src 'self'`. Without a picture, or when fetching failed, a placeholder
generated from the actor id shows (an identicon), never a broken image."""

from __future__ import annotations

import asyncio
import hashlib
import html

from activitypub.client import FetchError, fetch_file
from node.context import Node
from node.federation.actors import AVATAR_SMALL
from node.storage import LocalActorRow

from . import uploads

IMAGE_TYPES = "image/png, image/jpeg, image/webp, image/gif"
PER_PASS = 10
GRID = 5


def avatar_key(actor_id: str) -> str:
    return hashlib.sha256(actor_id.encode()).hexdigest()[:32]


def avatar_path(actor_id: str, member: LocalActorRow | None = None) -> str:
    """Where a page finds someone's picture: /@name/avatar for a member (whatever picture
    they have now: rendered comments are cached), /avatars/<key> for anyone else."""
    if member is not None:
        return f"/@{member.username}/avatar"
    return f"/avatars/{avatar_key(actor_id)}"


async def fetch_due(node: Node) -> int:
    """Fetch the pictures of remote actors that have one we do not hold yet; returns how many
    were tried (each is tried once per picture URL: a failure is remembered, not retried)."""
    due = await node.store.actors_needing_avatars(PER_PASS)
    for actor_id, icon_url in due:
        data, problem = await _fetched(node, icon_url)
        await node.store.save_remote_avatar(avatar_key(actor_id), actor_id, icon_url, data, problem)
    return len(due)


async def _fetched(node: Node, url: str) -> tuple[bytes | None, str]:
    try:
        raw = await fetch_file(
            node.http, url, node.fetch_policy, max_bytes=uploads.MAX_IMAGE_BYTES, accept=IMAGE_TYPES
        )
        images = await asyncio.to_thread(uploads.square_images, raw, (AVATAR_SMALL,))
    except FetchError as exc:
        return None, str(exc)
    except uploads.UploadError as exc:
        return None, str(exc)
    return images[AVATAR_SMALL].data, ""


def identicon(key: str) -> str:
    """A 5 by 5 mirrored pattern in one colour, from the key: the same person, the same picture."""
    digest = hashlib.sha256(key.encode()).digest()
    colour = f"#{digest[0] % 160:02x}{digest[1] % 160:02x}{digest[2] % 160:02x}"
    cells = []
    for row in range(GRID):
        for column in range((GRID + 1) // 2):
            if digest[3 + row * 3 + column] % 2:
                for x in {column, GRID - 1 - column}:
                    cells.append(f'<rect x="{x}" y="{row}" width="1" height="1"/>')
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="-1 -1 7 7" width="96" height="96">'
        f'<rect x="-1" y="-1" width="7" height="7" fill="#eef0f4"/>'
        f'<g fill="{html.escape(colour)}">{"".join(cells)}</g></svg>'
    )
