"""`conode comments`, `block`, `reports`, `log`: what moderators do from the shell."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from node.content import html
from node.context import Node
from node.federation import report_forwarding
from node.moderation import rules as moderation
from node.settings import Settings
from node.storage import NoteRow, Store

from .arguments import positive_int
from .content import run_with_node

STATUSES = ("pending", "approved", "rejected", "private", "deleted", "all")
ACTIONS = {"approve": "approved", "reject": "rejected", "delete": "deleted"}


def _with_store(settings: Settings, action: Callable[[Store], Awaitable[int]]) -> int:
    async def main() -> int:
        store = Store(settings.database_url)
        await store.connect()
        try:
            return await action(store)
        finally:
            await store.disconnect()

    return asyncio.run(main())


async def _record(store: Store, action: str, target: str, detail: str = "") -> None:
    """Log a moderation action taken here, as the node's own (Application) actor, so the
    moderation log shows what was done from the command line as well as from the web."""
    node_actor = await store.local_actor_of_kind("Application")
    if node_actor is not None:
        await store.record_moderation(node_actor.id, action, target, detail)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _print_json(items: list[dict[str, Any]]) -> None:
    print(json.dumps([{k: _jsonable(v) for k, v in item.items()} for item in items], indent=2))


def _comment_json(note: NoteRow) -> dict[str, Any]:
    return {
        "id": note.id,
        "status": note.status,
        "author": note.author_id,
        "in_reply_to": note.in_reply_to,
        "content": note.content_html,
        "object_id": note.object_id,
        "public": note.public,
        "published": note.published_at,
    }


def cmd_comments_list(settings: Settings, args: argparse.Namespace) -> int:
    async def act(store: Store) -> int:
        status = None if args.status == "all" else args.status
        notes = await store.notes_with_status(status)
        if args.json:
            _print_json([_comment_json(note) for note in notes])
            return 0
        if not notes:
            print(f"no {args.status} comments")
        for note in notes:
            text = html.plain_text(note.content_html, 100)
            print(f"{note.id:>5}  {note.status:<9} {note.author_id}\n       {text}")
        return 0

    return _with_store(settings, act)


def cmd_comments_action(settings: Settings, args: argparse.Namespace) -> int:
    async def act(store: Store) -> int:
        note = await moderation.set_comment_status(store, args.id, ACTIONS[args.comment_command])
        await _record(store, args.comment_command, f"comment {note.id}", note.author_id)
        print(f"comment {note.id} is now {note.status}")
        return 0

    return _with_store(settings, act)


def cmd_block(settings: Settings, args: argparse.Namespace) -> int:
    async def act(store: Store) -> int:
        if args.block_command == "add":
            result = await moderation.block(store, args.target, args.reason or "")
            await _record(store, "block", result.target, args.reason or "")
            print(
                f"blocked {result.kind} {result.target}: {result.rejected_comments} pending "
                f"comments rejected, {result.removed_followers} followers removed"
            )
        elif args.block_command == "remove":
            removed = await moderation.unblock(store, args.target)
            if removed:
                await _record(store, "unblock", args.target)
            print(f"unblocked {args.target}" if removed else f"{args.target} was not blocked")
        else:
            items = await store.blocks()
            if args.json:
                _print_json(items)
            for item in [] if args.json else items:
                print(f"{item['kind']:<6} {item['target']}  {item['reason']}")
        return 0

    return _with_store(settings, act)


def cmd_reports(settings: Settings, args: argparse.Namespace) -> int:
    async def act(node: Node) -> int:
        items = await report_forwarding.report_views(node)
        if args.json:
            _print_json(items)
        elif not items:
            print("no reports")
        for item in [] if args.json else items:
            print(f"{item['id']:>5}  from {item['server']} ({item['actor_id']}): {item['content']}")
            if item["members"]:
                print(f"       about our member(s) {', '.join(item['members'])}")
            for object_id in item["object_ids"]:
                print(f"       about {object_id}")
            if item["forwarded_at"]:
                print(f"       forwarded {item['forwarded_at']:%Y-%m-%d %H:%M}")
        return 0

    return run_with_node(settings, act)


def cmd_reports_forward(settings: Settings, args: argparse.Namespace) -> int:
    async def act(node: Node) -> int:
        servers = await report_forwarding.forward_report(node, args.id, comment=args.comment)
        print(f"report {args.id} forwarded to {', '.join(servers)} (a Flag from the node)")
        return 0

    return run_with_node(settings, act)


def cmd_log(settings: Settings, args: argparse.Namespace) -> int:
    direction = "inbound" if args.inbound else "delivery" if args.deliveries else None

    async def act(store: Store) -> int:
        items = await store.log_entries(
            direction=direction, host=args.host, outcome=args.outcome, limit=args.limit
        )
        if args.json:
            _print_json(items)
            return 0
        for item in items:
            when = item["created_at"].strftime("%Y-%m-%d %H:%M:%S")
            what = f"{item['type'] or '-'} {item['activity_id'] or ''}".strip()
            print(
                f"{when} {item['direction']:<8} {item['outcome']:<10} {item['host'] or '-'} "
                f"{what}: {item['reason']}"
            )
        return 0

    return _with_store(settings, act)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    comments = commands.add_parser("comments", help="moderate federated comments")
    actions = comments.add_subparsers(dest="comment_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list comments (pending by default)")
    listing.add_argument("--status", choices=STATUSES, default="pending")
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    listing.set_defaults(handler=cmd_comments_list)
    for name, text in (
        ("approve", "publish a comment and trust its author from now on"),
        ("reject", "hide a comment"),
        ("delete", "delete a comment's content"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument(
            "id", type=positive_int, help="the comment's number from `comments list`"
        )
        action.set_defaults(handler=cmd_comments_action)

    block = commands.add_parser("block", help="block a server or an account")
    block_actions = block.add_subparsers(dest="block_command", metavar="ACTION", required=True)
    add = block_actions.add_parser("add", help="block a domain or an actor id")
    add.add_argument("target", metavar="DOMAIN_OR_ACTOR_ID")
    add.add_argument("--reason", metavar="TEXT")
    remove = block_actions.add_parser("remove", help="lift a block")
    remove.add_argument("target", metavar="DOMAIN_OR_ACTOR_ID")
    blocks = block_actions.add_parser("list", help="list blocks")
    blocks.add_argument("--json", action="store_true", help="print one JSON array")
    for parser in (add, remove, blocks):
        parser.set_defaults(handler=cmd_block)

    reports = commands.add_parser("reports", help="Flag reports received")
    report_actions = reports.add_subparsers(dest="reports_command", metavar="ACTION", required=True)
    report_list = report_actions.add_parser("list", help="list reports")
    report_list.add_argument("--json", action="store_true", help="print one JSON array")
    report_list.set_defaults(handler=cmd_reports)
    forward = report_actions.add_parser(
        "forward", help="send the report as a Flag from the node to the reported server"
    )
    forward.add_argument("id", type=int, metavar="ID", help="the report's number (reports list)")
    forward.add_argument(
        "--comment", default="", metavar="TEXT", help="your words to the other server's moderators"
    )
    forward.set_defaults(handler=cmd_reports_forward)

    log = commands.add_parser("log", help="what happened to each inbound activity and delivery")
    which = log.add_mutually_exclusive_group()
    which.add_argument("--inbound", action="store_true", help="only inbound activities")
    which.add_argument("--deliveries", action="store_true", help="only delivery attempts")
    log.add_argument("--host", metavar="HOST", help="only this remote server")
    log.add_argument("--outcome", metavar="OUTCOME", help="e.g. accepted, held, dropped, refused")
    log.add_argument("--limit", type=positive_int, default=200, help="newest N entries (200)")
    log.add_argument("--json", action="store_true", help="print one JSON array")
    log.set_defaults(handler=cmd_log)
