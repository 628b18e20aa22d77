"""`conode post create --kind offer`, `conode offers …` and `conode ledger`, through the command's
own `main()`: exit status 2 and one sentence for bad input, nothing changed. (The installed
command, as separate processes, is driven by tests/node/test_offers_two_nodes.py.)"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from node.cli.main import main

from .test_cli import conode, env

__all__ = ["env"]  # the fixture, shared with test_cli

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def in_process(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> Run:
    """The same `main()` the installed command runs, in this process: many refusals in one
    test without paying an interpreter start for each."""
    for name in [name for name in os.environ if name.startswith("CONODE_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("CONODE_"):
            monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _checked(run: Run) -> tuple[Callable[..., str], Callable[..., Any]]:
    def ok(*args: str) -> str:
        code, out, err = run(*args)
        assert code == 0, err
        return out

    def as_json(*args: str) -> Any:
        return json.loads(ok(*args, "--json"))

    return ok, as_json


def _offer(name: str = "ben", *extra: str) -> list[str]:
    return ["post", "create", name, "--kind", "offer", "--title", "Help in your garden",
            "--body", "Weeding and pruning", *extra]  # fmt: skip


def test_an_offer_is_posted_answered_matched_completed_and_balanced(in_process: Run) -> None:
    ok, as_json = _checked(in_process)
    ok("init")
    for name in ("ben", "ann"):
        ok("user", "create", name)
    offer_id = ok(*_offer("ben", "--hours", "2", "--category", "Gardening")).strip()
    assert offer_id.startswith("http://127.0.0.1:8000/posts/")
    ok("reply", "ann", offer_id, "--body", "I can help on Saturday")
    (item,) = as_json("offers", "list")
    assert (item["id"], item["status"], item["hours"], item["category"]) == (
        offer_id, "open", 2.0, "gardening"
    )  # fmt: skip
    (response,) = item["responses"]
    assert response["author"] == "http://127.0.0.1:8000/users/ann"
    agreement_id = ok("offers", "match", offer_id, str(response["id"])).splitlines()[0]
    assert as_json("offers", "list")[0]["status"] == "taken"
    ok("offers", "complete", agreement_id, "--hours", "2.5")
    balances = {b["handle"]: b["balance"] for b in as_json("ledger")}
    assert balances == {"@ben": 2.5, "@ann": -2.5}
    (entry,) = as_json("ledger", "ann")
    assert (entry["agreement"], entry["hours"], entry["offer"]) == (agreement_id, -2.5, offer_id)
    assert "total 0 hours" in ok("ledger")
    (agreement,) = as_json("offers", "agreements")
    assert (agreement["status"], agreement["completed_hours"]) == ("completed", 2.5)
    assert as_json("offers", "list")[0]["status"] == "fulfilled"


def test_bad_input_gets_a_clear_error_and_changes_nothing(in_process: Run) -> None:
    ok, _ = _checked(in_process)

    def refused(reason: str, *args: str) -> None:
        code, _, err = in_process(*args)
        assert code == 2, (args, err)
        assert reason in err, (args, err)

    ok("init")
    for name in ("ben", "carol"):
        ok("user", "create", name)
    for reason, args in [
        ("must be more than 0", _offer("ben", "--hours", "-2")),
        ("at most 100 at a time", _offer("ben", "--hours", "1000")),
        ("must be a number of hours", _offer("ben", "--hours", "lots")),
        ("quarter hours", _offer("ben", "--hours", "0.1")),
        ("unknown category 'knitting'", _offer("ben", "--category", "knitting")),
        ("no member 'community'", _offer("community")),  # the group is nobody's to speak for
        ("no member 'nobody'", _offer("nobody")),
        ("is in the past", _offer("ben", "--expires", "2001-01-01")),
        ("are for offers and requests", ["post", "create", "ben", "--kind", "blog", "--title",
                                         "T", "--body", "B", "--hours", "2"]),
    ]:  # fmt: skip
        refused(reason, *args)
    assert json.loads(ok("offers", "list", "--json")) == []

    offer_id = ok(*_offer("ben", "--hours", "2")).strip()
    refused("has not been matched", "offers", "complete", offer_id, "--hours", "2")
    refused("only its author or an admin", "offers", "match", offer_id, "1", "--as", "carol")
    refused("only its author or an admin", "offers", "close", offer_id, "--withdrawn",
            "--as", "carol")  # fmt: skip
    refused("no response 7", "offers", "match", offer_id, "7")
    ok("reply", "carol", offer_id, "--body", "Me please")
    agreement_id = ok("offers", "match", offer_id, "1", "--as", "ben").splitlines()[0]
    for hours, reason in (("500", "at most 100"), ("-1", "more than 0"), ("nan", "more than 0")):
        refused(reason, "offers", "complete", agreement_id, "--hours", hours)
    refused("no agreement", "offers", "complete", "nonsense", "--hours", "2")
    assert json.loads(ok("ledger", "--json")) == []
    (item,) = json.loads(ok("offers", "list", "--json"))
    assert item["status"] == "taken" and item["agreements"][0]["status"] == "agreed"


def test_offer_commands_have_help() -> None:
    for command in (["offers"], ["offers", "match"], ["offers", "complete"], ["ledger"]):
        result = conode({}, *command, "--help")
        assert result.returncode == 0 and "usage: conode" in result.stdout
