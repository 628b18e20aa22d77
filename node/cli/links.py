"""`conode links`: linking this node's Group with other local groups' nodes."""

from __future__ import annotations

import argparse
import json

from node.context import Node
from node.network import links, shared_blocks
from node.network import overview as network
from node.settings import Settings

from .arguments import positive_int
from .content import run_with_node


def cmd_links_request(settings: Settings, args: argparse.Namespace) -> int:
    async def act(node: Node) -> int:
        link = await links.request_link(node, args.url)
        print(f"link {link.id}: asked {link.handle} ({link.actor_id}); waiting for their admin")
        return 0

    return run_with_node(settings, act)


def cmd_links_list(settings: Settings, args: argparse.Namespace) -> int:
    async def act(node: Node) -> int:
        items = [network.link_entry(link) for link in await node.store.links()]
        if args.json:
            print(json.dumps(items, indent=2))
        elif not items:
            print("no links yet: ask another node with `conode links request URL`")
        for item in [] if args.json else items:
            reach = {True: "reachable", False: "unreachable", None: "not checked"}[
                item["reachable"]
            ]
            print(f"{item['id']:>4}  {item['state']:<9} {item['handle']}  {item['url']}  ({reach})")
        return 0

    return run_with_node(settings, act)


def cmd_links_action(settings: Settings, args: argparse.Namespace) -> int:
    async def act(node: Node) -> int:
        if args.links_command == "approve":
            link = await links.approve_link(node, args.id)
            print(f"link {link.id} with {link.handle} approved; Accept and follow-back queued")
        elif args.links_command == "remove":
            link = await links.remove_link(node, args.id)
            print(f"link {link.id} with {link.handle} removed; Undo and Reject queued")
        else:
            link = await links.trust_moderation(node, args.id, trusted=not args.untrust)
            verb = "now" if link.trust_moderation else "no longer"
            print(f"link {link.id}: {link.handle}'s block decisions are {verb} followed here")
        return 0

    return run_with_node(settings, act)


def cmd_links_suggestions(settings: Settings, args: argparse.Namespace) -> int:
    async def act(node: Node) -> int:
        items = await shared_blocks.open_suggestions(node)
        if args.json:
            print(json.dumps(items, indent=2))
        elif not items:
            print("no block suggestions from linked nodes")
        for item in [] if args.json else items:
            print(f"{item['target']}  {item['reason']}")
            print(f"    confirm with: conode block add {item['target']}")
        return 0

    return run_with_node(settings, act)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = commands.add_parser("links", help="link this node with other local groups' nodes")
    actions = group.add_subparsers(dest="links_command", metavar="ACTION", required=True)
    request = actions.add_parser("request", help="ask another node to link (their admin approves)")
    request.add_argument("url", metavar="URL", help="a node's URL, its Group actor or @handle@host")
    request.set_defaults(handler=cmd_links_request)
    listing = actions.add_parser("list", help="list links and link requests")
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    listing.set_defaults(handler=cmd_links_list)
    suggestions = actions.add_parser(
        "suggestions", help="blocks of trusted linked nodes, waiting for you to confirm"
    )
    suggestions.add_argument("--json", action="store_true", help="print one JSON array")
    suggestions.set_defaults(handler=cmd_links_suggestions)
    for name, text in (
        ("approve", "accept a pending link request and follow back"),
        ("remove", "end a link (or refuse a request): sharing stops both ways"),
        ("trust", "follow a linked node's block decisions"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("id", type=positive_int, help="the link's number from `links list`")
        if name == "trust":
            action.add_argument(
                "--moderation", action="store_true", required=True,
                help="take its blocks (suggested unless CONODE_LINK_BLOCKS=apply)",
            )  # fmt: skip
            action.add_argument("--untrust", action="store_true", help="stop following them")
        action.set_defaults(handler=cmd_links_action)
