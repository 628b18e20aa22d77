"""NodeInfo 2.1 documents and the /.well-known/nodeinfo index."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .vocab import APPLICATION_REL, NODEINFO_21_REL, Document

SOFTWARE_NAME_PATTERN = re.compile(r"^[a-z0-9-]+$")


@dataclass(frozen=True)
class Usage:
    users_total: int
    users_active_month: int
    users_active_halfyear: int
    local_posts: int


@dataclass(frozen=True)
class NodeInfo:
    software_name: str
    software_version: str
    open_registrations: bool
    usage: Usage
    metadata: dict[str, Any] = field(default_factory=dict)
    repository: str | None = None
    outbound_services: list[str] = field(default_factory=list)


def well_known_index(nodeinfo_url: str, instance_actor_id: str) -> Document:
    return {
        "links": [
            {"rel": NODEINFO_21_REL, "href": nodeinfo_url},
            {"rel": APPLICATION_REL, "href": instance_actor_id},
        ]
    }


def document(info: NodeInfo) -> Document:
    if not SOFTWARE_NAME_PATTERN.match(info.software_name):
        raise ValueError("NodeInfo software.name must match [a-z0-9-]+")
    software: dict[str, str] = {"name": info.software_name, "version": info.software_version}
    if info.repository:
        software["repository"] = info.repository
    return {
        "version": "2.1",
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": info.outbound_services},
        "openRegistrations": info.open_registrations,
        "usage": {
            "users": {
                "total": info.usage.users_total,
                "activeMonth": info.usage.users_active_month,
                "activeHalfyear": info.usage.users_active_halfyear,
            },
            "localPosts": info.usage.local_posts,
        },
        "metadata": info.metadata,
    }
