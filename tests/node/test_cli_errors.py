"""Every `conode` command ends with a sentence, never a traceback: the operator's usual
mistakes (a missing directory, a closed pipe, a port out of range, an uninitialised database,
a negative number), and every subcommand of the parser run with bad input."""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.cli.main import build_parser
from node.storage import sqlite_path

from ..processes import CONODE
from .test_cli import conode, env

__all__ = ["env"]  # the fixture: a database with nothing in it, its own keys directory

PASSPHRASE = "correct horse battery staple\n"


def run(
    env: dict[str, str], *args: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return conode(env, *args, stdin=stdin, cwd=cwd)


def refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.stdout, result.stderr)
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.fixture
def initialised(env: dict[str, str]) -> dict[str, str]:
    assert run(env, "init").returncode == 0
    assert run(env, "user", "create", "ann", "--admin").returncode == 0
    return env


def test_backup_into_a_missing_directory_says_so(initialised: dict[str, str]) -> None:
    result = run(initialised, "backup", "/no/such/dir/x", stdin=PASSPHRASE)
    refused(result, "/no/such/dir", "does not exist")


def test_a_closed_pipe_ends_the_command_quietly(initialised: dict[str, str]) -> None:
    # `conode user list | head -0`: the reader is gone before anything is written
    process = subprocess.Popen(
        [*CONODE, "user", "list"],
        env=initialised,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    errors = process.stderr.read()
    process.wait(timeout=30)
    assert "Traceback" not in errors and "Exception" not in errors, errors


def test_serve_refuses_a_port_out_of_range(initialised: dict[str, str]) -> None:
    refused(run(initialised, "serve", "--port", "99999"), "99999", "1-65535")


def _empty_database(env: dict[str, str]) -> None:
    """On SQLite, a database file that exists (as after a failed first start) but holds
    nothing; a fresh PostgreSQL database is that already."""
    path = sqlite_path(env["CONODE_DATABASE_URL"])
    if path is not None:
        path.parent.mkdir(parents=True)
        with contextlib.closing(sqlite3.connect(path)):
            pass


def test_commands_on_an_uninitialised_database_say_to_run_init(env: dict[str, str]) -> None:
    _empty_database(env)
    for command in (["user", "list"], ["comments", "list"], ["log"], ["ledger"]):
        refused(run(env, *command), "conode init")


def test_log_refuses_a_negative_limit(initialised: dict[str, str]) -> None:
    refused(run(initialised, "log", "--limit", "-5"), "-5", "positive")


# --- every subcommand --------------------------------------------------------------------------


def _leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every runnable command of the parser, with the words that name it."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        yield path, parser
        return
    for name, child in subparsers[0].choices.items():
        yield from _leaves(child, (*path, name))


def _bad_arguments(parser: argparse.ArgumentParser) -> list[str]:
    """Positionals given nonsense, numbers given negative values, one of each required
    group chosen."""
    words: list[str] = []
    groups_done: set[int] = set()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if not action.option_strings:
            words.append("-5" if _numeric(action) else "no-such-thing")
            continue
        group = _required_group(parser, action)
        if group is not None:
            if id(group) in groups_done:
                continue
            groups_done.add(id(group))
        elif not action.required and not _numeric(action):
            continue
        if action.nargs == 0:
            words.append(action.option_strings[0])
        else:
            words += [action.option_strings[0], "-5"]
    return words


def _numeric(action: argparse.Action) -> bool:
    return action.type not in (None, str)


def _required_group(
    parser: argparse.ArgumentParser, action: argparse.Action
) -> argparse._MutuallyExclusiveGroup | None:
    for group in parser._mutually_exclusive_groups:
        if action in group._group_actions and group.required:
            return group
    return None


COMMANDS = list(_leaves(build_parser()))


def test_the_walk_finds_every_command() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"init", "serve", "user list", "block add", "log", "restore", "links trust"} <= names


@pytest.mark.parametrize("state", ["uninitialised", "initialised"])
def test_every_subcommand_with_bad_input_ends_in_a_sentence(
    env: dict[str, str], tmp_path: Path, state: str
) -> None:
    if state == "initialised":
        assert run(env, "init").returncode == 0
    else:
        _empty_database(env)
    failures = []
    for path, parser in COMMANDS:
        if path == ("init",) or (path == ("worker",) and state == "initialised"):
            continue  # valid as given: init would initialise, a worker would work
        args = [*path, *_bad_arguments(parser)]
        result = run(env, *args, stdin="x\n", cwd=tmp_path)
        if "Traceback" in result.stderr or (result.returncode != 0 and not result.stderr):
            failures.append(f"conode {' '.join(args)}: {result.stderr}")
    assert not failures, "\n\n".join(failures)
