"""Double-knocking's memory: which signature scheme each remote host accepts.

activitypub/auth.py signs with RFC 9421 first and falls back to draft-cavage on a 400 or 401.
What a host accepted is kept in the database (every web and worker process shares it) for
SCHEME_MEMORY, so the second knock is paid once per host: a host that takes only draft-cavage
sees no RFC 9421 attempt again until the memory expires, and then one, in case it upgraded.
Within one delivery pass, a host not yet known is probed with a single delivery before the rest
of its deliveries go out (probe_first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TypeVar

from node.storage import Store, utcnow

SCHEME_MEMORY = timedelta(days=30)

_T = TypeVar("_T")


async def known_schemes(
    store: Store, hosts: Iterable[str], now: datetime | None = None
) -> dict[str, str]:
    """host -> the scheme it accepted last, for hosts whose memory has not expired."""
    return await store.signature_schemes_of(hosts, now or utcnow())


async def remember(
    store: Store,
    accepted: Mapping[str, str],
    known: Mapping[str, str],
    now: datetime | None = None,
) -> None:
    """Store what hosts accepted, writing only what differs from what was known."""
    changed = {host: scheme for host, scheme in accepted.items() if known.get(host) != scheme}
    await store.remember_signature_schemes(changed, (now or utcnow()) + SCHEME_MEMORY)


def probe_first(
    items: Iterable[_T], host_of: Callable[[_T], str], known: Mapping[str, str]
) -> tuple[list[_T], list[_T]]:
    """(one item per host not yet known, everything else): send the first list, learn from
    it, then send the rest, so a batch of deliveries to a new host knocks twice at most once."""
    probes: dict[str, _T] = {}
    rest: list[_T] = []
    for item in items:
        host = host_of(item)
        if host in known or host in probes:
            rest.append(item)
        else:
            probes[host] = item
    return list(probes.values()), rest
