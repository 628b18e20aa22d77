"""The community's look: its name, logo, accent colour and header image, set by an admin on the
about page's edit form or with `conode site set`, shown by every page, the badge and the Group
and instance actors.

The logo is kept like a member's picture (checked by its bytes, re-encoded without metadata,
cropped square at the actors' icon sizes, node/content/uploads.py) and becomes the Group's and
the instance actor's `icon`; the header image is cropped to 3:1 (Mastodon's header shape).
Both are served from our origin (/media/...). The accent colour is checked, and the colours
that read on it and as links on the light and dark page are worked out here
(node/content/colours.py), so an admin cannot make text unreadable. A change to what other
servers show (name, logo) is sent to the actors' followers as `Update`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from node.context import Node
from node.federation import actor_updates, actors
from node.settings import Settings
from node.storage import LocalActorRow, SiteIdentityRow

from . import colours, uploads

MAX_NAME = 100
LOGO_BOXES = uploads.squares(actors.AVATAR_SIZES)
HEADER_BOXES = ((1500, 500),)


class IdentityError(ValueError):
    """A change we refuse; the message says what to give instead."""


@dataclass(frozen=True)
class SiteChange:
    """What to change; None (False) leaves a thing as it is."""

    name: str | None = None
    accent: str | None = None  # "" goes back to the stylesheet's own colour
    logo: bytes | None = None
    remove_logo: bool = False
    header: bytes | None = None
    remove_header: bool = False


@dataclass(frozen=True)
class Palette:
    """The accent and what reads with it (node/content/colours.py)."""

    accent: str
    on_accent: str  # text on an accent background
    link_light: str  # the accent as text on the light page
    link_dark: str  # on the dark page


@dataclass(frozen=True)
class Look:
    """What pages show; paths are on our origin."""

    name: str
    palette: Palette | None
    logo_url: str | None  # small, beside the name
    header_url: str | None
    theme_url: str | None  # /theme.css with a version, when there is an accent

    @property
    def accent(self) -> str | None:
        return self.palette.accent if self.palette else None


@functools.lru_cache(maxsize=32)
def palette(accent: str) -> Palette:
    return Palette(
        accent=accent,
        on_accent=colours.text_on(accent),
        link_light=colours.readable_on(accent, colours.LIGHT_PAGE),
        link_dark=colours.readable_on(accent, colours.DARK_PAGE),
    )


def look(settings: Settings, row: SiteIdentityRow) -> Look:
    stamp = int(row.updated_at.timestamp()) if row.updated_at else 0
    small = f"{actors.AVATAR_SMALL}"
    return Look(
        name=row.name or settings.name,
        palette=palette(row.accent) if row.accent else None,
        logo_url=f"/media/{row.logo_id}-{small}" if row.logo_id else None,
        header_url=f"/media/{uploads.fitted_ids(row.header_id, HEADER_BOXES)[0]}"
        if row.header_id
        else None,
        theme_url=f"/theme.css?v={stamp}" if row.accent else None,
    )


def current(node: Node) -> Look:
    """The look as this process last read it (`refresh` keeps it fresh, once per request)."""
    return look(node.settings, node.look.last() or SiteIdentityRow())


async def refresh(node: Node) -> None:
    await node.look.refreshed(node.store.site_identity)


def theme_css(found: Look) -> str:
    """The accent as custom properties for static/site.css, in each colour scheme."""
    p = found.palette
    if p is None:
        return "/* no accent colour set: static/site.css's own colours apply */\n"
    return (
        f":root {{ --accent: {p.accent}; --on-accent: {p.on_accent}; --link: {p.link_light}; }}\n"
        f"@media (prefers-color-scheme: dark) {{ :root {{ --link: {p.link_dark}; }} }}\n"
    )


def _checked_name(name: str) -> str:
    text = " ".join(name.split())
    if not text or len(text) > MAX_NAME:
        raise IdentityError(f"a community name has 1 to {MAX_NAME} characters")
    return text


def _checked_values(change: SiteChange) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    if change.name is not None:
        values["name"] = _checked_name(change.name)
    if change.accent is not None:
        try:
            values["accent"] = colours.checked_hex(change.accent) if change.accent else None
        except colours.ColourError as exc:
            raise IdentityError(str(exc)) from exc
    if change.remove_logo:
        values["logo_id"] = None
    if change.remove_header:
        values["header_id"] = None
    return values


async def _node_actors(node: Node) -> list[LocalActorRow]:
    group = await node.store.local_actor(node.settings.group_handle)
    instance = await node.store.local_actor_of_kind("Application")
    found = [row for row in (group, instance) if row is not None]
    if not found:
        raise IdentityError("this node has no Group actor yet: run `conode init` first")
    return found


async def _stored(
    node: Node, owner: int, data: bytes, alt: str, boxes: tuple[tuple[int, int], ...]
) -> str:
    try:
        return await uploads.store_fitted(node.store, owner, data, alt, boxes)
    except uploads.UploadError as exc:
        raise IdentityError(str(exc)) from exc


async def change(node: Node, wanted: SiteChange, by: int | None) -> SiteIdentityRow:
    """Check everything first, then store and federate; a refused change stores nothing.
    `by`: the admin's row id (None: the command line, logged as the node's own actor)."""
    values = _checked_values(wanted)
    node_actors = await _node_actors(node)
    owner = node_actors[0].id
    before = await node.store.site_identity()
    name = values.get("name") or before.name or node.settings.name
    async with node.store.transaction():
        if wanted.logo is not None:
            values["logo_id"] = await _stored(
                node, owner, wanted.logo, f"Logo of {name}", LOGO_BOXES
            )
        if wanted.header is not None:
            alt = f"Header image of {name}"
            values["header_id"] = await _stored(node, owner, wanted.header, alt, HEADER_BOXES)
        done_by = by if by is not None else node_actors[-1].id
        await node.store.save_site_identity(done_by, **values)
        after = await node.store.site_identity()
        await _drop_replaced(node, before, after)
        for row in node_actors:
            shown = {"display_name": after.name or row.display_name, "avatar_id": after.logo_id}
            if (row.display_name, row.avatar_id) != (shown["display_name"], shown["avatar_id"]):
                await node.store.update_account(row.id, **shown)
                fresh = await node.store.local_actor_by_row_id(row.id)
                assert fresh is not None
                await actor_updates.federate_actor(node, fresh)
        detail = ", ".join(sorted({*values} - {"logo_id", "header_id"} | _pictures(wanted)))
        await node.store.record_moderation(done_by, "edit_look", "site", detail)
    node.look.put(after)
    return after


def _pictures(wanted: SiteChange) -> set[str]:
    changed = set()
    if wanted.logo is not None or wanted.remove_logo:
        changed.add("logo")
    if wanted.header is not None or wanted.remove_header:
        changed.add("header")
    return changed


async def _drop_replaced(node: Node, before: SiteIdentityRow, after: SiteIdentityRow) -> None:
    gone: list[str] = []
    if before.logo_id and before.logo_id != after.logo_id:
        gone += uploads.fitted_ids(before.logo_id, LOGO_BOXES)
    if before.header_id and before.header_id != after.header_id:
        gone += uploads.fitted_ids(before.header_id, HEADER_BOXES)
    if gone:
        await node.store.delete_unattached_media(gone)
