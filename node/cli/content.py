"""`conode post`, `follow`, `unfollow`, `reply`: what members publish and do, from the shell."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from node.content import interaction_policy, publishing, replies
from node.context import Node, open_node
from node.federation import following
from node.federation.actors import LocalActor, local_actor
from node.offers import exchanges
from node.offers import proposals as offers
from node.offers.terms import KINDS
from node.settings import Settings
from node.storage import PostRow


class ContentError(Exception):
    """An operator error in these commands; printed as one sentence."""


def run_with_node(settings: Settings, action: Callable[[Node], Awaitable[int]]) -> int:
    async def main() -> int:
        async with open_node(settings) as node:
            return await action(node)

    return asyncio.run(main())


async def member(node: Node, name: str) -> LocalActor:
    row = await node.store.local_actor(name.lower().lstrip("@"))
    if row is None or row.kind != "Person":
        raise ContentError(f"no member {name!r}: see `conode user list`")
    return local_actor(node.settings, row)


def read_body(args: argparse.Namespace) -> str | None:
    if getattr(args, "body_file", None):
        path = Path(args.body_file)
        if str(path) == "-":
            return sys.stdin.read()
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ContentError(f"cannot read {path}: {exc.strerror}") from None
    body: str | None = getattr(args, "body", None)
    return body


def cmd_post_create(settings: Settings, args: argparse.Namespace) -> int:
    body = read_body(args) or ""

    terms = offers.OfferDraft(args.category, args.hours, args.place, args.expires)

    async def create(node: Node) -> int:
        author = await member(node, args.name)
        policy = {"replies": args.replies, "quotes": args.quotes}
        draft = publishing.Draft(
            args.kind, args.title, body, args.summary, language=args.language, **policy
        )
        if args.kind in KINDS:
            post = await offers.create_offer(node, author, draft, terms)
        else:
            post = await publishing.create_post(node, author, draft)
        print(publishing.post_id(node, post))
        return 0

    if args.kind not in KINDS and terms != offers.OfferDraft():
        raise ContentError("--hours, --category, --place and --expires are for offers and requests")
    return run_with_node(settings, create)


async def _post(node: Node, object_id: str) -> PostRow:
    post = await publishing.post_from_id(node, object_id)
    if post is None:
        raise ContentError(f"no post {object_id} on this node")
    return post


def cmd_post_edit(settings: Settings, args: argparse.Namespace) -> int:
    body = read_body(args)

    async def edit(node: Node) -> int:
        post = await _post(node, args.id)
        edit = offers.edit_offer if post.kind in KINDS else publishing.edit_post
        updated = await edit(node, post, title=args.title, body=body, summary=args.summary)
        print(f"updated {publishing.post_id(node, updated)}; Update queued for followers")
        return 0

    return run_with_node(settings, edit)


def cmd_post_delete(settings: Settings, args: argparse.Namespace) -> int:
    async def delete(node: Node) -> int:
        post = await _post(node, args.id)
        await publishing.delete_post(node, post)
        print(f"deleted {args.id}; it now answers 410 and a Delete is queued for followers")
        return 0

    return run_with_node(settings, delete)


def cmd_follow(settings: Settings, args: argparse.Namespace) -> int:
    async def act(node: Node) -> int:
        who = await member(node, args.name)
        if args.command == "follow":
            target = await following.follow(node, who, args.account)
            print(f"{who.handle} asked to follow {target.actor_id}; waiting for their Accept")
        else:
            target = await following.unfollow(node, who, args.account)
            print(f"{who.handle} no longer follows {target.actor_id}")
        return 0

    return run_with_node(settings, act)


def cmd_reply(settings: Settings, args: argparse.Namespace) -> int:
    body = read_body(args) or ""

    async def act(node: Node) -> int:
        who = await member(node, args.name)
        note = await replies.reply(
            node, who, args.object_id, body, on_stored=exchanges.record_reply
        )
        print(note.object_id)
        return 0

    return run_with_node(settings, act)


def _body_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--body", metavar="TEXT", help="the text, in Markdown")
    group.add_argument(
        "--body-file", metavar="FILE.md", help="read the Markdown from FILE (- = stdin)"
    )


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    post = commands.add_parser("post", help="publish, edit and delete posts")
    actions = post.add_subparsers(dest="post_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="publish as member NAME; prints the post's id")
    create.add_argument("name", help="the member who writes it")
    create.add_argument("--kind", required=True, choices=["blog", "report", "offer", "request"])
    create.add_argument("--title", required=True, metavar="TEXT")
    _body_options(create, required=True)
    create.add_argument(
        "--summary", metavar="TEXT", help="plain-language summary (Mastodon shows it)"
    )
    create.add_argument("--hours", metavar="N", help="hours offered or asked (offers, requests)")
    create.add_argument("--category", metavar="NAME", help="one of CONODE_OFFER_CATEGORIES")
    create.add_argument("--place", metavar="TEXT", help="where (offers, requests)")
    create.add_argument("--expires", metavar="YYYY-MM-DD", help="open until the end of that day")
    create.add_argument(
        "--replies",
        choices=interaction_policy.REPLY_CHOICES,
        help="who may reply from other servers (default: anyone)",
    )
    create.add_argument(
        "--quotes",
        choices=interaction_policy.QUOTE_CHOICES,
        help="who may quote it (default: followers)",
    )
    create.add_argument(
        "--language",
        metavar="CODE",
        help="what it is written in, e.g. de (default: the member's language, else "
        "CONODE_LANGUAGE)",
    )
    create.set_defaults(handler=cmd_post_create)
    edit = actions.add_parser("edit", help="edit a post and federate the Update")
    edit.add_argument("id", help="the post's id (its URL)")
    edit.add_argument("--title", metavar="TEXT")
    _body_options(edit, required=False)
    edit.add_argument("--summary", metavar="TEXT")
    edit.set_defaults(handler=cmd_post_edit)
    delete = actions.add_parser("delete", help="delete a post and federate the Delete")
    delete.add_argument("id", help="the post's id (its URL)")
    delete.set_defaults(handler=cmd_post_delete)

    for name, text in (("follow", "member NAME follows ACCOUNT"), ("unfollow", "stop following")):
        parser = commands.add_parser(name, help=text)
        parser.add_argument("name", help="the member")
        parser.add_argument("account", help="@user@host or an actor URL")
        parser.set_defaults(handler=cmd_follow)

    reply = commands.add_parser("reply", help="member NAME replies to a post or comment")
    reply.add_argument("name", help="the member who replies")
    reply.add_argument("object_id", help="the id (URL) of the post or comment, local or remote")
    _body_options(reply, required=True)
    reply.set_defaults(handler=cmd_reply)
