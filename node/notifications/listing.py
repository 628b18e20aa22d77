"""Reading notifications: what /notifications shows and `conode notifications` prints, each
with a sentence for people and the fields scripts use (`id`, `kind`, `created_at`, `read`,
`url`, `actor`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from node.settings import Settings
from node.storage import Store

SENTENCES = {
    "reply": "{who} replied to you",
    "response": "{who} answered your offer or request “{text}”",
    "match": "Your response was chosen: “{text}”",
    "agreement": "{who} accepted your response: “{text}”",
    "hours": "Hours were recorded for “{text}”",
    "mention": "{who} mentioned you",
    "follower": "{who} follows you",
    "comment_waiting": "A comment by {who} waits for moderation",
    "report": "{who} sent a report",
    "link_request": "The node of {who} asks to link with ours",
}


@dataclass(frozen=True)
class Notice:
    id: int
    kind: str
    created_at: datetime
    read: bool
    url: str  # absolute
    actor: str  # actor id ("" when nobody in particular)
    sentence: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "created_at": self.created_at.isoformat(),
            "read": self.read,
            "url": self.url,
            "actor": self.actor,
            "text": self.sentence,
        }


async def _who(store: Store, settings: Settings, actor_id: str, known: dict[str, str]) -> str:
    if actor_id not in known:
        remote = await store.remote_actor(actor_id) if actor_id else None
        if remote is not None and remote.username:
            known[actor_id] = f"@{remote.username}@{remote.host}"
        elif actor_id.startswith(f"{settings.url}/users/"):
            known[actor_id] = "@" + actor_id.rsplit("/", 1)[1]
        else:
            known[actor_id] = urlsplit(actor_id).netloc or "someone"
    return known[actor_id]


async def notices(
    store: Store, settings: Settings, member_id: int, *, unread_only: bool = False
) -> list[Notice]:
    """Newest first."""
    known: dict[str, str] = {}
    found = []
    for row in await store.notifications_of(member_id, unread_only=unread_only):
        who = await _who(store, settings, row["actor_id"], known)
        template = SENTENCES.get(row["kind"], "{kind}")
        url = row["url"] if "://" in row["url"] else settings.url + row["url"]
        found.append(
            Notice(
                id=row["id"],
                kind=row["kind"],
                created_at=row["created_at"],
                read=row["read_at"] is not None,
                url=url,
                actor=row["actor_id"],
                sentence=template.format(who=who, text=row["text"], kind=row["kind"]),
            )
        )
    return found
