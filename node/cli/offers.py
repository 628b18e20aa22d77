"""`conode offers` and `conode ledger`: the give-and-take board, matching, closing and
completing exchanges, and the hours ledger, from the shell. `--as NAME` acts as that member
(who must be the offer's author or an admin); without it the operator acts as an admin."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from node.content import publishing
from node.content.html import plain_text
from node.context import Node
from node.federation.actors import LocalActor
from node.offers import ledger, matching
from node.offers import proposals as offers
from node.offers.terms import hours_label, hours_number
from node.settings import Settings
from node.storage import AgreementRow, OfferRow, PostRow

from .arguments import positive_int
from .content import member, run_with_node


def _hours(minutes: int | None) -> float | None:
    return hours_number(minutes) if minutes is not None else None


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _print_json(items: list[dict[str, Any]]) -> None:
    print(json.dumps(items, indent=2, ensure_ascii=False))


async def _acting(node: Node, name: str | None) -> LocalActor | None:
    return await member(node, name) if name else None


def _agreement_json(agreement: AgreementRow) -> dict[str, Any]:
    return {
        "id": agreement.object_id,
        "offer": agreement.proposal_id,
        "title": agreement.title,
        "status": agreement.status,
        "made_here": agreement.offer_id is not None,
        "proposer": agreement.proposer_id,
        "provider": agreement.provider_id,
        "receiver": agreement.receiver_id,
        "hours": _hours(agreement.minutes),
        "completed_hours": _hours(agreement.completed_minutes),
        "created_at": _when(agreement.created_at),
        "completed_at": _when(agreement.completed_at),
    }


async def _offer_json(node: Node, post: PostRow, offer: OfferRow) -> dict[str, Any]:
    author = await publishing.author_of(node, post)
    responses = [
        {
            "id": response.id,
            "author": response.actor_id,
            "kind": response.kind,
            "hours": _hours(response.minutes),
            "status": note.status,
            "object_id": note.object_id,
            "content": note.content_html,
        }
        for response, note in await node.store.responses_to(offer.id)
    ]
    return {
        "id": publishing.post_id(node, post),
        "kind": post.kind,
        "title": post.title,
        "status": offer.status,
        "category": offer.category,
        "hours": _hours(offer.minutes),
        "place": offer.place,
        "expires": _when(offer.expires_at),
        "author": author.actor_id,
        "published": _when(post.published_at),
        "responses": responses,
        "agreements": [_agreement_json(a) for a in await node.store.agreements(offer_id=offer.id)],
    }


def _print_offer(item: dict[str, Any]) -> None:
    terms = [item["title"]]
    if item["hours"] is not None:
        terms.append(f"{item['hours']:g} hours")
    terms.append(item["category"] or "no category")
    print(f"{item['status']:<9} {item['kind']:<7} {' · '.join(terms)}\n          {item['id']}")
    for response in item["responses"]:
        text = plain_text(response["content"], 80)
        print(f"          response {response['id']} ({response['status']}) {response['author']}")
        print(f"            {text}")
    for agreement in item["agreements"]:
        print(f"          agreement {agreement['status']} {agreement['id']}")


def cmd_offers_list(settings: Settings, args: argparse.Namespace) -> int:
    async def act(node: Node) -> int:
        board = await node.store.offers_board()
        items = [await _offer_json(node, post, offer) for post, offer in board]
        if args.json:
            _print_json(items)
        elif not items:
            print("no offers or requests yet: `conode post create NAME --kind offer …`")
        for item in [] if args.json else items:
            _print_offer(item)
        return 0

    return run_with_node(settings, act)


def cmd_offers_action(settings: Settings, args: argparse.Namespace) -> int:
    async def act(node: Node) -> int:
        by = await _acting(node, args.as_name)
        if args.offers_command == "match":
            agreement = await matching.match(node, by, args.offer_id, args.response_id)
            print(agreement.object_id)
            responder = agreement.provider_id
            if responder == agreement.proposer_id:
                responder = agreement.receiver_id
            print(f"matched: the offer is taken; Accept queued for {responder}")
        elif args.offers_command == "close":
            status = "fulfilled" if args.fulfilled else "withdrawn"
            await offers.close(node, by, args.id, status)
            print(f"{args.id} is now {status}; Update queued for followers")
        else:
            agreement = await ledger.complete(node, by, args.agreement_id, args.hours)
            hours = hours_label(agreement.completed_minutes or 0)
            print(
                f"completed {agreement.object_id}: {hours} from {agreement.provider_id}"
                f" to {agreement.receiver_id}; confirmation published"
            )
        return 0

    return run_with_node(settings, act)


def cmd_offers_agreements(settings: Settings, args: argparse.Namespace) -> int:
    async def act(node: Node) -> int:
        items = [_agreement_json(a) for a in await node.store.agreements()]
        if args.json:
            _print_json(items)
        elif not items:
            print("no agreements yet")
        for item in [] if args.json else items:
            hours = item["completed_hours"] if item["status"] == "completed" else item["hours"]
            amount = f"{hours:g} hours" if hours is not None else "hours not set"
            print(f"{item['status']:<9} {amount}  {item['title']}\n          {item['id']}")
        return 0

    return run_with_node(settings, act)


def cmd_ledger(settings: Settings, args: argparse.Namespace) -> int:
    async def act(node: Node) -> int:
        if args.name:
            who = await member(node, args.name)
            return _print_history(await ledger.history(node, who.actor_id), args.json)
        balances = await ledger.balances(node)
        if args.json:
            _print_json([_balance_json(balance) for balance in balances])
            return 0
        for balance in balances:
            print(
                f"{hours_label(balance.balance):>14}  {balance.handle}"
                f"  (gave {hours_label(balance.given)}, received {hours_label(balance.received)})"
            )
        total = await node.store.ledger_total()
        print(f"total {hours_label(total)} across {len(balances)} accounts")
        return 0

    return run_with_node(settings, act)


def _balance_json(balance: ledger.Balance) -> dict[str, Any]:
    return {
        "account": balance.account_id,
        "handle": balance.handle,
        "local": balance.local,
        "balance": hours_number(balance.balance),
        "given": hours_number(balance.given),
        "received": hours_number(balance.received),
    }


def _print_history(entries: list[ledger.Entry], as_json: bool) -> int:
    items = [
        {
            "agreement": entry.agreement_id,
            "offer": entry.proposal_id,
            "title": entry.title,
            "counterparty": entry.counterparty,
            "hours": hours_number(entry.minutes),
            "at": entry.at.isoformat(),
        }
        for entry in entries
    ]
    if as_json:
        _print_json(items)
        return 0
    print(f"balance {hours_label(sum(entry.minutes for entry in entries))}")
    for item in items:
        print(
            f"{item['hours']:+g} hours  {item['title']}  with {item['counterparty']}  {item['at']}"
        )
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    board = commands.add_parser("offers", help="offers and requests: board, match, close, complete")
    actions = board.add_subparsers(dest="offers_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the board: open first, by category, newest first")
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    listing.set_defaults(handler=cmd_offers_list)
    match = actions.add_parser("match", help="agree with a response; the offer becomes taken")
    match.add_argument("offer_id", help="the offer's id (its URL)")
    match.add_argument("response_id", type=positive_int, help="the response's number (offers list)")
    close = actions.add_parser("close", help="close an offer as fulfilled or withdrawn")
    close.add_argument("id", help="the offer's id (its URL)")
    how = close.add_mutually_exclusive_group(required=True)
    how.add_argument("--fulfilled", action="store_true", help="it happened")
    how.add_argument("--withdrawn", action="store_true", help="it is no longer on offer")
    complete = actions.add_parser("complete", help="the exchange is done: write the hours")
    complete.add_argument("agreement_id", help="the agreement's id (match prints it)")
    complete.add_argument("--hours", required=True, metavar="N", help="hours actually given")
    for parser in (match, close, complete):
        parser.add_argument("--as", dest="as_name", metavar="NAME", help="act as this member")
        parser.set_defaults(handler=cmd_offers_action)
    agreements = actions.add_parser("agreements", help="agreements made here or with members")
    agreements.add_argument("--json", action="store_true", help="print one JSON array")
    agreements.set_defaults(handler=cmd_offers_agreements)

    books = commands.add_parser("ledger", help="hours given and received")
    books.add_argument("name", nargs="?", help="one member's balance and history")
    books.add_argument("--json", action="store_true", help="print one JSON array")
    books.set_defaults(handler=cmd_ledger)
