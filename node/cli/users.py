"""`conode user passwd | reset-link | edit | suspend | unsuspend | delete`: what the operator
does to one account (creating and listing are in node/cli/main.py)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from node.accounts import credentials, moving, profiles
from node.accounts import members as accounts
from node.accounts.members import AccountError
from node.content import uploads
from node.context import Node, open_node
from node.settings import Settings
from node.storage import LocalActorRow

MemberAction = Callable[[Node, LocalActorRow], Awaitable[int]]


def with_member(settings: Settings, name: str, action: MemberAction) -> int:
    """Open the node, find member NAME, run `action`, and deliver nothing here (the worker
    sends what it queued)."""

    async def main() -> int:
        async with open_node(settings) as node:
            row = await node.store.local_actor(name.lower().lstrip("@"))
            if row is None or row.kind != "Person":
                raise AccountError(f"no member @{name} here: see `conode user list`")
            return await action(node, row)

    return asyncio.run(main())


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise AccountError("no terminal to ask at: pipe the password in with --password-stdin")
    first = getpass.getpass("New password: ")
    if first != getpass.getpass("The same again: "):
        raise AccountError(credentials.DIFFERENT)
    return first


def cmd_passwd(settings: Settings, args: argparse.Namespace) -> int:
    password_hash = credentials.checked_hash(_read_password(args))

    async def act(node: Node, row: LocalActorRow) -> int:
        await credentials.set_password(node, row, password_hash)
        print(f"password of @{row.username} changed; their sessions have ended")
        return 0

    return with_member(settings, args.name, act)


def cmd_reset_link(settings: Settings, args: argparse.Namespace) -> int:
    async def act(node: Node, row: LocalActorRow) -> int:
        link = await credentials.reset_link(node, row, None)
        print(f"{link}\n(works once, for {credentials.RESET_HOURS} hours; shown only now)")
        return 0

    return with_member(settings, args.name, act)


def _change(args: argparse.Namespace) -> profiles.ProfileChange:
    avatar = None
    if args.avatar is not None:
        try:
            avatar = Path(args.avatar).read_bytes()[: uploads.MAX_IMAGE_BYTES + 1]
        except OSError as exc:
            raise AccountError(f"cannot read {args.avatar}: {exc.strerror}") from exc
    return profiles.ProfileChange(
        display_name=args.display_name,
        bio=args.bio,
        avatar=avatar,
        remove_avatar=args.no_avatar,
        email="" if args.no_email else args.email,
    )


def cmd_edit(settings: Settings, args: argparse.Namespace) -> int:
    change = _change(args)

    async def act(node: Node, row: LocalActorRow) -> int:
        if args.role is not None:
            row = await profiles.set_role(node, row, args.role)
        row = await profiles.edit_profile(node, row, change)
        print(f"@{row.username} saved; followers' servers get the update from the worker")
        return 0

    return with_member(settings, args.name, act)


def cmd_action(settings: Settings, args: argparse.Namespace) -> int:
    action = args.user_command
    if action == "delete" and not args.yes:
        raise AccountError("deleting an account cannot be undone: add --yes to go ahead")

    async def act(node: Node, row: LocalActorRow) -> int:
        await accounts.apply(node, row, action)
        print(f"@{row.username}: {DONE[action]}")
        return 0

    return with_member(settings, args.name, act)


def cmd_alias(settings: Settings, args: argparse.Namespace) -> int:
    async def act(node: Node, row: LocalActorRow) -> int:
        alias = await moving.add_alias(node, row, args.account)
        print(f"@{row.username} is also known as {alias}: that account may move here now")
        return 0

    return with_member(settings, args.name, act)


def cmd_move(settings: Settings, args: argparse.Namespace) -> int:
    async def act(node: Node, row: LocalActorRow) -> int:
        moved = await moving.move(node, row, args.account)
        print(f"@{row.username} has moved to {moved.target.handle} ({moved.target.actor_id})")
        print("their followers' servers get the Move from the worker")
        if moved.minutes is not None:
            hours = moved.minutes / 60
            print(f"{hours:g} hours offered to the new node; written when it accepts")
        return 0

    return with_member(settings, args.name, act)


DONE = {
    "suspend": "suspended and signed out everywhere",
    "unsuspend": "may sign in again",
    "delete": "deleted; the deletion of their posts and account is queued for federation",
}


def add_commands(user_commands: Any) -> None:
    passwd = user_commands.add_parser("passwd", help="set a member's password (asks twice)")
    passwd.add_argument("name", help="the member's username")
    passwd.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    passwd.set_defaults(handler=cmd_passwd)
    reset = user_commands.add_parser(
        "reset-link", help="print a single-use link for choosing a new password (24 hours)"
    )
    reset.add_argument("name", help="the member's username")
    reset.set_defaults(handler=cmd_reset_link)
    edit = user_commands.add_parser("edit", help="change a member's profile, address or role")
    edit.add_argument("name", help="the member's username")
    edit.add_argument("--display-name", metavar="TEXT", help="the name people see")
    edit.add_argument("--bio", metavar="TEXT", help="about them, in Markdown")
    picture = edit.add_mutually_exclusive_group()
    picture.add_argument("--avatar", metavar="FILE", help="a JPEG, PNG, GIF or WebP picture")
    picture.add_argument("--no-avatar", action="store_true", help="remove the picture")
    mail = edit.add_mutually_exclusive_group()
    mail.add_argument("--email", metavar="ADDRESS", help="where the node may write to them")
    mail.add_argument("--no-email", action="store_true", help="forget their address")
    edit.add_argument("--role", choices=profiles.ROLES, help="member, moderator or admin")
    edit.set_defaults(handler=cmd_edit)
    alias = user_commands.add_parser(
        "alias",
        help="add ACCOUNT to NAME's alsoKnownAs, so that account may move to NAME",
        description="The receiving side of a move: NAME says it is also ACCOUNT (an account "
        "elsewhere that will move here). Followers' servers get the updated profile.",
    )
    alias.add_argument("name", help="the member's username")
    alias.add_argument("account", help="the account moving here: @user@host or its actor URL")
    alias.set_defaults(handler=cmd_alias)
    move = user_commands.add_parser(
        "move",
        help="NAME's account has moved to ACCOUNT (checks ACCOUNT's alsoKnownAs)",
        description="Move member NAME to ACCOUNT, which must list NAME in its alsoKnownAs "
        "(`conode user alias` on a conode node). Followers are sent a Move, the profile "
        "points to ACCOUNT, NAME stops publishing here, and if ACCOUNT is on a linked node "
        "NAME's hours move with them.",
    )
    move.add_argument("name", help="the member's username")
    move.add_argument("account", help="the new account: @user@host or its actor URL")
    move.set_defaults(handler=cmd_move)
    for action, text in (
        ("suspend", "suspend a member and end their sessions"),
        ("unsuspend", "let a suspended member sign in again"),
        ("delete", "delete a member, their posts, and federate the deletions"),
    ):
        command = user_commands.add_parser(action, help=text)
        command.add_argument("name", help="the member's username")
        if action == "delete":
            command.add_argument("--yes", action="store_true", help="confirm: it cannot be undone")
        command.set_defaults(handler=cmd_action)
