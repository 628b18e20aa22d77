"""`conode post create --kind offer`, `conode offers …` and `conode ledger`, driven as an operator
would: the installed command, exit status 2 and one sentence for bad input, nothing changed."""

from __future__ import annotations

import json
from typing import Any

from .test_cli import conode, env

__all__ = ["env"]  # the fixture, shared with test_cli


def _ok(env: dict[str, str], *args: str) -> str:
    result = conode(env, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _json(env: dict[str, str], *args: str) -> Any:
    return json.loads(_ok(env, *args, "--json"))


def _refused(env: dict[str, str], reason: str, *args: str) -> None:
    result = conode(env, *args)
    assert result.returncode == 2, (args, result.stdout, result.stderr)
    assert reason in result.stderr, (args, result.stderr)
    assert "Traceback" not in result.stderr


def _offer(env: dict[str, str], name: str = "ben", *extra: str) -> list[str]:
    return ["post", "create", name, "--kind", "offer", "--title", "Help in your garden",
            "--body", "Weeding and pruning", *extra]  # fmt: skip


def test_an_offer_is_posted_answered_matched_completed_and_balanced(env: dict[str, str]) -> None:
    _ok(env, "init")
    for name in ("ben", "ann"):
        _ok(env, "user", "create", name)
    offer_id = _ok(env, *_offer(env, "ben", "--hours", "2", "--category", "Gardening")).strip()
    assert offer_id.startswith("http://127.0.0.1:8000/posts/")
    _ok(env, "reply", "ann", offer_id, "--body", "I can help on Saturday")
    (item,) = _json(env, "offers", "list")
    assert (item["id"], item["status"], item["hours"], item["category"]) == (
        offer_id, "open", 2.0, "gardening"
    )  # fmt: skip
    (response,) = item["responses"]
    assert response["author"] == "http://127.0.0.1:8000/users/ann"
    agreement_id = _ok(env, "offers", "match", offer_id, str(response["id"])).splitlines()[0]
    assert _json(env, "offers", "list")[0]["status"] == "taken"
    _ok(env, "offers", "complete", agreement_id, "--hours", "2.5")
    balances = {b["handle"]: b["balance"] for b in _json(env, "ledger")}
    assert balances == {"@ben": 2.5, "@ann": -2.5}
    (entry,) = _json(env, "ledger", "ann")
    assert (entry["agreement"], entry["hours"], entry["offer"]) == (agreement_id, -2.5, offer_id)
    assert "total 0 hours" in _ok(env, "ledger")
    (agreement,) = _json(env, "offers", "agreements")
    assert (agreement["status"], agreement["completed_hours"]) == ("completed", 2.5)
    assert _json(env, "offers", "list")[0]["status"] == "fulfilled"


def test_bad_input_gets_a_clear_error_and_changes_nothing(env: dict[str, str]) -> None:
    _ok(env, "init")
    for name in ("ben", "carol"):
        _ok(env, "user", "create", name)
    for reason, args in [
        ("hours must be more than 0", _offer(env, "ben", "--hours", "-2")),
        ("at most 100 hours", _offer(env, "ben", "--hours", "1000")),
        ("not a number of hours", _offer(env, "ben", "--hours", "lots")),
        ("quarter hours", _offer(env, "ben", "--hours", "0.1")),
        ("unknown category 'knitting'", _offer(env, "ben", "--category", "knitting")),
        ("no member 'community'", _offer(env, "community")),  # the group is nobody's to speak for
        ("no member 'nobody'", _offer(env, "nobody")),
        ("is in the past", _offer(env, "ben", "--expires", "2001-01-01")),
        ("are for offers and requests", ["post", "create", "ben", "--kind", "blog", "--title",
                                         "T", "--body", "B", "--hours", "2"]),
    ]:  # fmt: skip
        _refused(env, reason, *args)
    assert _json(env, "offers", "list") == []

    offer_id = _ok(env, *_offer(env, "ben", "--hours", "2")).strip()
    _refused(env, "has not been matched", "offers", "complete", offer_id, "--hours", "2")
    _refused(env, "only its author or an admin", "offers", "match", offer_id, "1", "--as", "carol")
    _refused(env, "only its author or an admin", "offers", "close", offer_id, "--withdrawn",
             "--as", "carol")  # fmt: skip
    _refused(env, "no response 7", "offers", "match", offer_id, "7")
    _ok(env, "reply", "carol", offer_id, "--body", "Me please")
    agreement_id = _ok(env, "offers", "match", offer_id, "1", "--as", "ben").splitlines()[0]
    for hours, reason in (("500", "at most 100"), ("-1", "more than 0"), ("nan", "more than 0")):
        _refused(env, reason, "offers", "complete", agreement_id, "--hours", hours)
    _refused(env, "no agreement", "offers", "complete", "nonsense", "--hours", "2")
    assert _json(env, "ledger") == []
    (item,) = _json(env, "offers", "list")
    assert item["status"] == "taken" and item["agreements"][0]["status"] == "agreed"


def test_offer_commands_have_help() -> None:
    for command in (["offers"], ["offers", "match"], ["offers", "complete"], ["ledger"]):
        result = conode({}, *command, "--help")
        assert result.returncode == 0 and "usage: conode" in result.stdout
