"""`conode user passwd | reset-link | edit | suspend | unsuspend | delete` and
`conode notifications`, driven as an operator would, checked in the database and over HTTP."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

from PIL import Image

from node.accounts import passwords
from node.accounts.members import token_hash
from node.storage import LocalActorRow, Store

from .test_cli import conode, env  # noqa: F401  (the fixture)

NEW_PASSWORD = "operator-chosen-password"


def _row(environ: dict[str, str], name: str) -> LocalActorRow:
    async def read() -> LocalActorRow:
        store = Store(environ["CONODE_DATABASE_URL"])
        await store.connect()
        try:
            row = await store.local_actor(name)
        finally:
            await store.disconnect()
        assert row is not None
        return row

    return asyncio.run(read())


def _reset_usable(environ: dict[str, str], token: str) -> bool:
    async def read() -> bool:
        store = Store(environ["CONODE_DATABASE_URL"])
        await store.connect()
        try:
            return await store.usable_password_reset(token_hash(token)) is not None
        finally:
            await store.disconnect()

    return asyncio.run(read())


def _with_member(environ: dict[str, str]) -> None:
    assert conode(environ, "init").returncode == 0
    first = "first-password-1\n"
    created = conode(environ, "user", "create", "ann", "--password-stdin", stdin=first)
    assert created.returncode == 0, created.stderr


def test_user_passwd_sets_the_password_and_ends_sessions(env: dict[str, str]) -> None:  # noqa: F811
    _with_member(env)
    before = _row(env, "ann")
    done = conode(env, "user", "passwd", "ann", "--password-stdin", stdin=NEW_PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    after = _row(env, "ann")
    assert after.password_hash and passwords.verify_password(after.password_hash, NEW_PASSWORD)
    assert after.session_generation == before.session_generation + 1
    short = conode(env, "user", "passwd", "ann", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    unknown = conode(env, "user", "passwd", "nobody", "--password-stdin", stdin=NEW_PASSWORD + "\n")
    assert unknown.returncode == 2 and "no member" in unknown.stderr
    assert conode(env, "user", "passwd", "--help").returncode == 0


def test_user_reset_link_prints_a_single_use_link(env: dict[str, str]) -> None:  # noqa: F811
    _with_member(env)
    done = conode(env, "user", "reset-link", "ann")
    assert done.returncode == 0, done.stderr
    link = done.stdout.split()[0]
    assert link.startswith("http://127.0.0.1:8000/reset/")
    assert _reset_usable(env, link.rsplit("/", 1)[1])
    assert "24 hours" in done.stdout


def _png(path: Path) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), "teal").save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


def test_user_edit_changes_profile_email_and_role(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    _with_member(env)
    done = conode(
        env, "user", "edit", "ann", "--display-name", "Ann Lee", "--bio", "Likes *bikes*",
        "--avatar", str(_png(tmp_path / "me.png")), "--email", "ann@example.org",
        "--role", "moderator",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    row = _row(env, "ann")
    assert (row.display_name, row.bio, row.email) == ("Ann Lee", "Likes *bikes*", "ann@example.org")
    assert row.summary == "<p>Likes <em>bikes</em></p>"
    assert row.avatar_id and row.is_moderator and not row.is_admin
    cleared = conode(env, "user", "edit", "ann", "--no-avatar", "--no-email", "--role", "member")
    assert cleared.returncode == 0, cleared.stderr
    row = _row(env, "ann")
    assert row.avatar_id is None and row.email is None and not row.is_moderator
    not_image = tmp_path / "x.png"
    not_image.write_text("<svg/>")
    refused = conode(env, "user", "edit", "ann", "--avatar", str(not_image))
    assert refused.returncode == 2 and "not an image" in refused.stderr
    bad_mail = conode(env, "user", "edit", "ann", "--email", "ann@example.org\nBcc: x@y.z")
    assert bad_mail.returncode == 2 and _row(env, "ann").email is None


def test_user_suspend_unsuspend_and_delete(env: dict[str, str]) -> None:  # noqa: F811
    _with_member(env)
    assert conode(env, "user", "suspend", "ann").returncode == 0
    assert _row(env, "ann").suspended_at is not None
    assert conode(env, "user", "unsuspend", "ann").returncode == 0
    assert _row(env, "ann").suspended_at is None
    unconfirmed = conode(env, "user", "delete", "ann")
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr
    assert _row(env, "ann").deleted_at is None
    assert conode(env, "user", "delete", "ann", "--yes").returncode == 0
    assert _row(env, "ann").deleted_at is not None
    listed = json.loads(conode(env, "user", "list", "--json").stdout)
    assert [item["deleted"] for item in listed if item["username"] == "ann"] == [True]


def _notify(environ: dict[str, str], name: str) -> None:
    async def add() -> None:
        store = Store(environ["CONODE_DATABASE_URL"])
        await store.connect()
        try:
            row = await store.local_actor(name)
            assert row is not None
            alice = "https://mastodon.example/users/alice"
            await store.add_notification(row.id, "follower", alice, actor_id=alice)
            await store.add_notification(row.id, "reply", "/posts/abc#comment-1", actor_id=alice)
            await store.mark_notifications_read(row.id, 1)
        finally:
            await store.disconnect()

    asyncio.run(add())


def test_notifications_lists_what_the_member_sees(env: dict[str, str]) -> None:  # noqa: F811
    _with_member(env)
    _notify(env, "ann")
    every = json.loads(conode(env, "notifications", "ann", "--json").stdout)
    assert [item["kind"] for item in every] == ["reply", "follower"]  # newest first
    reply = every[0]
    assert set(reply) >= {"id", "kind", "created_at", "read", "url", "actor"}
    assert reply["url"] == "http://127.0.0.1:8000/posts/abc#comment-1" and reply["read"] is False
    assert reply["actor"] == "https://mastodon.example/users/alice"
    unread = json.loads(conode(env, "notifications", "ann", "--unread", "--json").stdout)
    assert [item["kind"] for item in unread] == ["reply"]
    text = conode(env, "notifications", "ann")
    assert text.returncode == 0 and "replied to you" in text.stdout
    assert conode(env, "notifications", "nobody").returncode == 2
