"""The `conode` command: the operator interface documented in docs/operating.md."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from node import __version__
from node.accounts import passwords
from node.accounts.members import AccountError
from node.content.identity import IdentityError
from node.content.publishing import PublishError
from node.federation import actors, following, integrity, report_forwarding
from node.moderation.rules import ModerationError
from node.network import links
from node.offers.terms import OfferError
from node.ops import secret_check, vault
from node.ops.backup import BackupError
from node.settings import SERVE_LOOP, Settings, SettingsError, load_settings
from node.storage import DatabaseUrlError, Store, head_revision, migrate, redact

from . import backup as cli_backup
from . import content as cli_content
from . import demo as cli_demo
from . import demo_content as demo
from . import doctor as cli_doctor
from . import group_posts as cli_group_posts
from . import links as cli_links
from . import moderation as cli_moderation
from . import notifications as cli_notifications
from . import offers as cli_offers
from . import site as cli_site
from . import users as cli_users
from .arguments import port_number, process_count

logger = logging.getLogger(__name__)

Command = Callable[[Settings, argparse.Namespace], int]


class CliError(Exception):
    """An operator error: printed as one sentence on stderr, exit status 2."""


def _run(coroutine: Awaitable[int]) -> int:
    async def wrapper() -> int:
        return await coroutine

    return asyncio.run(wrapper())


async def _open_store(settings: Settings) -> Store:
    store = Store(settings.database_url)
    await store.connect()
    return store


# init


def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    created: list[str] = []
    asyncio.run(secret_check.check_before_init(settings))  # before anything is written
    if vault.create_secret(settings.secret_path):
        created.append(f"node secret {settings.secret_path} (mode 0600; back it up)")
    before = migrate(settings.database_url)
    head = head_revision()
    if before != head:
        created.append(
            f"database schema {before or 'empty'} -> {head} at {redact(settings.database_url)}"
        )
    secret = vault.load_secret(settings.secret_path)

    async def actors_step() -> int:
        store = await _open_store(settings)
        try:
            created.extend(await actors.ensure_node_actors(store, settings, secret))
            made = await integrity.ensure_keys(store, secret)
            if made:
                created.append(f"Ed25519 proof keys (FEP-8b32) for {made} existing actors")
        finally:
            await store.disconnect()
        return 0

    _run(actors_step())
    for line in created:
        print(f"created {line}")
    if not created:
        print(f"nothing to do: {settings.url} is initialised (schema {head})")
    return 0


# users


def cmd_user_create(settings: Settings, args: argparse.Namespace) -> int:
    username = actors.check_username(settings, args.name)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        generated = False
    else:
        password = passwords.generate_password()
        generated = True
    password_hash = passwords.hash_password(password)
    secret = vault.load_secret(settings.secret_path)

    async def create() -> int:
        store = await _open_store(settings)
        try:
            row = await actors.create_actor(
                store,
                secret,
                username=username,
                kind="Person",
                display_name=args.display_name or username,
                is_admin=args.admin,
                password_hash=password_hash,
            )
        finally:
            await store.disconnect()
        actor = actors.local_actor(settings, row)
        role = "admin" if row.is_admin else "member"
        print(f"created {role} @{row.username}@{settings.host} {actor.actor_id}")
        if generated:
            print(f"password: {password}  (shown once; keep it somewhere safe)")
        return 0

    return _run(create())


def cmd_user_list(settings: Settings, args: argparse.Namespace) -> int:
    async def list_users() -> int:
        store = await _open_store(settings)
        try:
            rows = await store.local_actors("Person")
        finally:
            await store.disconnect()
        items = [_user_json(settings, actors.local_actor(settings, row)) for row in rows]
        if args.json:
            print(json.dumps(items, indent=2))
        elif not items:
            print("no members yet: add one with `conode user create NAME`")
        for item in [] if args.json else items:
            print(f"{item['handle']}{_role_note(item)}  {item['display_name']}  {item['id']}")
        return 0

    return _run(list_users())


def _role_note(item: dict[str, Any]) -> str:
    role = "admin" if item["admin"] else "moderator" if item["moderator"] else ""
    state = "deleted" if item["deleted"] else "suspended" if item["suspended"] else ""
    words = [word for word in (role, state) if word]
    return f" ({', '.join(words)})" if words else ""


def _user_json(settings: Settings, actor: actors.LocalActor) -> dict[str, Any]:
    return {
        "id": actor.actor_id,
        "username": actor.username,
        "handle": f"@{actor.username}@{settings.host}",
        "display_name": actor.row.display_name,
        "admin": actor.row.is_admin,
        "moderator": actor.row.is_admin or actor.row.is_moderator,
        "suspended": actor.row.suspended_at is not None,
        "deleted": actor.row.deleted_at is not None,
        "created_at": actor.row.created_at.isoformat(),
    }


# serving


def _require_schema(settings: Settings) -> None:
    """Every command but init, backup and restore needs a database at the current schema."""

    async def check() -> None:
        store = await _open_store(settings)
        try:
            revision = await store.schema_revision()
        finally:
            await store.disconnect()
        where = redact(settings.database_url)
        if revision is None:
            raise CliError(f"the database at {where} is not initialised: run `conode init` first")
        if revision != head_revision():
            raise CliError(
                f"the database at {where} is at schema {revision}, this conode needs "
                f"{head_revision()}: run `conode init` to migrate it"
            )

    asyncio.run(check())


def port_mismatch(url: str, port: int) -> str | None:
    """A sentence when an http CONODE_URL names another port than the one served (behind an
    https proxy the ports differ by design)."""
    parts = urlsplit(url)
    named = parts.port or 80
    if parts.scheme != "http" or named == port:
        return None
    return (
        f"CONODE_URL is {url}, port {named}, but this process serves port {port}: every link "
        f"and ActivityPub id will point at port {named}; set CONODE_URL=http://"
        f"{parts.hostname}:{port} (or serve on port {named}), unless a proxy on port {named} "
        "forwards here"
    )


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from node.app import create_app

    asyncio.run(secret_check.load_checked_secret(settings))  # the schema is checked already
    print(
        f"conode {__version__} serving {settings.name} on http://{args.host}:{args.port}",
        flush=True,
    )
    if settings.url != f"http://{args.host}:{args.port}":
        print(f"public URL (CONODE_URL): {settings.url}", flush=True)
    mismatch = port_mismatch(settings.url, args.port)
    if mismatch:
        print(f"warning: {mismatch}", file=sys.stderr, flush=True)
    if args.processes > 1:
        # uvicorn binds the port once and runs N processes on it, each with its own app
        # (node.app.serve_app), restarting any that dies; they share only the database. It
        # replaces this process (same PID, for systemd), so the supervisor holds uvicorn alone
        # and not the ~80 MB this command imported.
        command = [sys.executable, "-m", "uvicorn", "node.app:serve_app", "--factory"]
        command += ["--workers", str(args.processes), "--host", args.host]
        command += ["--port", str(args.port), "--log-level", "info", "--loop", SERVE_LOOP]
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, command)
    uvicorn.run(
        create_app(settings, run_worker=True, port=args.port),
        host=args.host,
        port=args.port,
        log_level="info",
        loop=SERVE_LOOP,
    )
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from node.worker import run_forever

    asyncio.run(secret_check.load_checked_secret(settings))  # the schema is checked already
    print(f"conode {__version__} worker for {settings.url}", flush=True)
    if sys.platform == "win32":
        asyncio.run(run_forever(settings))
    else:  # uvloop: ~25% more deliveries/s (bench/fanout.py); serve keeps asyncio (SERVE_LOOP)
        import uvloop

        uvloop.run(run_forever(settings))
    return 0


# parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conode",
        description="A federated community node: reports, blog posts and offers over ActivityPub.",
        epilog="Configuration comes from CONODE_* environment variables and a .env file.",
    )
    parser.add_argument("--version", action="version", version=f"conode {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    init = commands.add_parser(
        "init", help="create or migrate the database, keys and node actors (idempotent)"
    )
    init.set_defaults(handler=cmd_init, needs_schema=False)

    serve = commands.add_parser("serve", help="serve HTTP and run the delivery worker")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument(
        "--port", type=port_number, default=8000, help="port to listen on (8000; 1-65535)"
    )
    serve.add_argument(
        "--processes",
        type=process_count,
        default=1,
        help="web processes on the one port (1; 1-64), each also working the queues",
    )
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser(
        "worker",
        help="run only the background worker (scale-out)",
        description="Work the queues (deliveries, inbound activities, mail, link checks) until "
        "SIGTERM or Ctrl-C; any number may run against one PostgreSQL database. Deliveries are "
        "signed on CONODE_SIGNING_THREADS threads (default 1) beside the event loop.",
    )
    worker.set_defaults(handler=cmd_worker)

    user = commands.add_parser("user", help="manage member accounts")
    user_commands = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    create = user_commands.add_parser("create", help="create a member (prints a password once)")
    create.add_argument("name", help="username: 1-30 lowercase letters, digits or _")
    create.add_argument("--admin", action="store_true", help="give the member admin rights")
    create.add_argument("--display-name", metavar="TEXT", help="the name people see")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(handler=cmd_user_create)
    listing = user_commands.add_parser("list", help="list members")
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    listing.set_defaults(handler=cmd_user_list)
    cli_users.add_commands(user_commands)
    cli_content.add_commands(commands)
    cli_moderation.add_commands(commands)
    cli_demo.add_commands(commands)
    cli_offers.add_commands(commands)
    cli_backup.add_commands(commands)
    cli_links.add_commands(commands)
    cli_group_posts.add_commands(commands)
    cli_notifications.add_commands(commands)
    cli_site.add_commands(commands)
    cli_doctor.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Serving processes log what they do; one-shot commands print only their result.
    level = logging.INFO if args.command in ("serve", "worker") else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for chatty in ("alembic", "httpx"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    try:
        return _dispatch(args)
    except BrokenPipeError:
        # `conode … | head`: the reader has gone, which is no error of ours. Point stdout at
        # /dev/null so the interpreter's final flush does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # what a shell reports for a command ended by SIGPIPE


def _dispatch(args: argparse.Namespace) -> int:
    handler: Command = args.handler
    try:
        settings = load_settings()
        if getattr(args, "needs_schema", True):
            _require_schema(settings)
        return handler(settings, args)
    except (
        CliError,
        SettingsError,
        DatabaseUrlError,
        vault.VaultError,
        actors.ActorError,
        passwords.PasswordError,
        AccountError,
        cli_content.ContentError,
        demo.DemoError,
        following.FollowingError,
        links.LinkError,
        PublishError,
        ModerationError,
        report_forwarding.ForwardError,
        OfferError,
        BackupError,
        IdentityError,
    ) as exc:
        print(f"conode: {exc}", file=sys.stderr)
        return 2
