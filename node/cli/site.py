"""`conode site show | set`: the community's look (name, logo, accent colour, header image),
as an admin sets it on the about page's edit form (node/content/identity.py)."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from node.content import identity, uploads
from node.context import open_node
from node.settings import Settings


def _read(path: str | None, what: str) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()[: uploads.MAX_IMAGE_BYTES + 1]
    except OSError as exc:
        raise identity.IdentityError(f"cannot read the {what} {path}: {exc.strerror}") from exc


def _shown(settings: Settings, look: identity.Look) -> dict[str, Any]:
    def absolute(path: str | None) -> str | None:
        return settings.url + path if path else None

    return {
        "name": look.name,
        "accent": look.accent,
        "text_on_accent": look.palette.on_accent if look.palette else None,
        "logo": absolute(look.logo_url),
        "header": absolute(look.header_url),
    }


def cmd_show(settings: Settings, args: argparse.Namespace) -> int:
    async def main() -> int:
        async with open_node(settings) as node:
            row = await node.store.site_identity()
        shown = _shown(settings, identity.look(settings, row))
        if args.json:
            print(json.dumps(shown, indent=2, ensure_ascii=False))
            return 0
        for key, value in shown.items():
            print(f"{key + ':':16}{value if value is not None else '(none)'}")
        return 0

    return asyncio.run(main())


def cmd_set(settings: Settings, args: argparse.Namespace) -> int:
    wanted = identity.SiteChange(
        name=args.name,
        accent="" if args.no_accent else args.accent,
        logo=_read(args.logo, "logo"),
        remove_logo=args.no_logo,
        header=_read(args.header, "header image"),
        remove_header=args.no_header,
    )
    if wanted == identity.SiteChange():
        raise identity.IdentityError(
            "nothing to change: give --name, --accent, --logo or --header (see --help)"
        )

    async def main() -> int:
        async with open_node(settings) as node:
            row = await identity.change(node, wanted, None)
        for key, value in _shown(settings, identity.look(settings, row)).items():
            print(f"{key + ':':16}{value if value is not None else '(none)'}")
        print(
            "saved: pages show it within seconds; the worker tells followers of a new name or logo"
        )
        return 0

    return asyncio.run(main())


def add_commands(commands: Any) -> None:
    site = commands.add_parser(
        "site", help="the community's look: name, logo, accent colour, header image"
    )
    actions = site.add_subparsers(dest="site_command", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="print the name, accent colour and picture URLs")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(handler=cmd_show)
    change = actions.add_parser(
        "set",
        help="change any of them (the others stay); federates a new name or logo",
        description="Change the community's look. Options not given stay as they are.",
    )
    change.add_argument("--name", help="the community's name (instead of CONODE_NAME)")
    accent = change.add_mutually_exclusive_group()
    accent.add_argument("--accent", metavar="'#RRGGBB'", help="accent colour, e.g. '#0b57a4'")
    accent.add_argument(
        "--no-accent", action="store_true", help="back to the stylesheet's own colour"
    )
    logo = change.add_mutually_exclusive_group()
    logo.add_argument("--logo", metavar="FILE", help="JPEG, PNG, GIF or WebP; cropped square")
    logo.add_argument("--no-logo", action="store_true", help="remove the logo")
    header = change.add_mutually_exclusive_group()
    header.add_argument("--header", metavar="FILE", help="an image cropped to 3:1")
    header.add_argument("--no-header", action="store_true", help="remove the header image")
    change.set_defaults(handler=cmd_set)
