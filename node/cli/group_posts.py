"""`conode group-posts`: posts accounts elsewhere addressed to our Group (FEP-1b12), held for a
moderator or announced (node/network/group_posts.py)."""

from __future__ import annotations

import argparse
import json

from node.context import Node
from node.network import group_posts
from node.settings import Settings

from .arguments import positive_int
from .content import run_with_node


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    async def act(node: Node) -> int:
        rows = await node.store.group_posts(args.status)
        items = [group_posts.entry(row) for row in rows]
        if args.json:
            print(json.dumps(items, indent=2))
        elif not items:
            print("no posts to the group" + (f" that are {args.status}" if args.status else ""))
        for item in [] if args.json else items:
            print(f"{item['id']:>4}  {item['status']:<8} {item['author']}  {item['object']}")
            print(f"      {item['content']}")
        return 0

    return run_with_node(settings, act)


def cmd_action(settings: Settings, args: argparse.Namespace) -> int:
    async def act(node: Node) -> int:
        if args.group_posts_command == "approve":
            row = await group_posts.approve(node, args.id)
            print(f"post {row.id} approved: the group announces it; {row.author_id} is trusted")
        else:
            row = await group_posts.reject(node, args.id)
            print(f"post {row.id} rejected: the group does not announce it")
        return 0

    return run_with_node(settings, act)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = commands.add_parser(
        "group-posts", help="posts addressed to the Group from other servers (held or announced)"
    )
    actions = group.add_subparsers(dest="group_posts_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list posts to the group, newest first")
    listing.add_argument(
        "--status", choices=group_posts.STATUSES, help="only posts with this status"
    )
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    listing.set_defaults(handler=cmd_list)
    for name, text in (
        ("approve", "announce a held post to the group's followers and trust its author"),
        ("reject", "do not announce a post to the group"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("id", type=positive_int, help="the post's number from `list`")
        action.set_defaults(handler=cmd_action)
