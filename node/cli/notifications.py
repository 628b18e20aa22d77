"""`conode notifications NAME [--unread] [--json]`: what member NAME sees on /notifications."""

from __future__ import annotations

import argparse
import json
from typing import Any

from node.context import Node
from node.notifications import listing
from node.settings import Settings
from node.storage import LocalActorRow

from .users import with_member


def cmd_notifications(settings: Settings, args: argparse.Namespace) -> int:
    async def act(node: Node, row: LocalActorRow) -> int:
        found = await listing.notices(node.store, settings, row.id, unread_only=args.unread)
        if args.json:
            print(json.dumps([notice.as_json() for notice in found], indent=2, ensure_ascii=False))
            return 0
        if not found:
            print(f"no {'unread ' if args.unread else ''}notifications for @{row.username}")
        for notice in found:
            mark = " " if notice.read else "*"
            when = notice.created_at.strftime("%Y-%m-%d %H:%M")
            print(f"{mark} {notice.id:>5}  {when}  {notice.sentence}\n         {notice.url}")
        return 0

    return with_member(settings, args.name, act)


def add_commands(commands: Any) -> None:
    parser = commands.add_parser(
        "notifications", help="what a member sees on /notifications (unread marked *)"
    )
    parser.add_argument("name", help="the member's username")
    parser.add_argument("--unread", action="store_true", help="only those not yet seen")
    parser.add_argument("--json", action="store_true", help="print one JSON array")
    parser.set_defaults(handler=cmd_notifications)
