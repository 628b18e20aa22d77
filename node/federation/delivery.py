"""Outgoing delivery: a durable queue of one row per (activity, inbox), worked by run_once().

`enqueue()` stores the unsigned activity once per inbox, inside the caller's transaction, so a
post and its deliveries commit together. `run_once()` leases the rows that are due, gives each
activity its sender's FEP-8b32 proof, POSTs them concurrently, each signed afresh with its
sender's key (a retry carries a fresh Date), and
records the outcome, the host's health and one activity_log row per attempt. A long-running
worker uses `Passes` instead: the same steps, each pass sent while the one before is recorded.

The retry policy itself (backoff, Retry-After, which answers are final, host pauses) is in
node/federation/retry_policy.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import itertools
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from activitypub import client, keys, proofs
from activitypub.auth import HttpSignatureAuth, host_of_url
from activitypub.client import DeliveryResult
from activitypub.vocab import Document
from node.context import Node
from node.ops import vault
from node.storage import Store, utcnow

from . import actors, integrity, knocking
from .retry_policy import (
    HOST_PAUSE_AFTER,
    MAX_ATTEMPTS,
    Outcome,
    backoff,
    classify,
    duration,
    host_pause,
    lease,
    worker_name,
)

logger = logging.getLogger(__name__)


class DeliveryError(ValueError):
    """An activity that cannot be queued; the message says why."""


@dataclass(frozen=True)
class Delivery:
    """A claimed row: `attempts` already counts the attempt about to be made."""

    id: int
    activity_id: str
    sender: str
    inbox_url: str
    host: str
    body: str
    attempts: int


@dataclass(frozen=True, repr=False)
class _ParsedKey(keys.PrivateKey):
    """A PrivateKey whose PEM is parsed once: sign_request() calls load() for every request,
    and loading a 2048-bit RSA key costs ~40 ms (cryptography checks it) against ~0.3 ms to sign."""

    parsed: rsa.RSAPrivateKey = field(compare=False)

    def load(self) -> rsa.RSAPrivateKey:
        return self.parsed


# Per process, keyed by key id and sealed value: a rotated or re-sealed key is a new entry.
_SIGNING_KEYS: dict[tuple[str, str], keys.PrivateKey] = {}


# --- Queueing ---------------------------------------------------------------------------------


def _host_of(inbox_url: str) -> str:
    return urlsplit(inbox_url).netloc.rpartition("@")[2].lower()[:255]


async def enqueue(
    store: Store, *, activity: Document, sender: str, inbox_urls: Iterable[str]
) -> int:
    """Queue `activity` from local actor `sender` to each distinct inbox; returns how many rows
    are new (a pair already queued is ignored). One multi-row INSERT; safe inside the caller's
    `async with store.transaction():`."""
    activity_id = activity.get("id")
    if not isinstance(activity_id, str) or not activity_id:
        raise DeliveryError("an activity needs an id before it can be delivered")
    body = json.dumps(activity, ensure_ascii=False, separators=(",", ":"))
    now = utcnow()
    rows = [
        {
            "activity_id": activity_id,
            "sender": sender,
            "inbox_url": url,
            "host": _host_of(url),
            "body": body,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "locked_until": None,
            "created_at": now,
        }
        for url in dict.fromkeys(inbox_urls)
    ]
    return await store.enqueue_deliveries(rows) if rows else 0


# --- Working the queue ------------------------------------------------------------------------


async def run_once(
    node: Node, *, limit: int = 256, concurrency: int = 64, now: datetime | None = None
) -> int:
    """Claim up to `limit` due deliveries, attempt them `concurrency` at a time and record the
    outcomes; returns how many were attempted. `now` steps time in tests (it also dates the
    signatures). A long-running worker uses Passes instead, which records each pass while
    sending the next."""
    now = now.astimezone(UTC) if now else None  # SQLite compares UTC wall-clock text
    claimed = await _claim(node, limit, now)
    if not claimed.rows:
        return 0
    sent = await _send(node, await _prepare(node, claimed), concurrency, now)
    await _record(node.store, sent)
    return len(sent.attempted)


class Passes:
    """Delivery passes for a long-running worker (node/worker.py): each pass is sent while the
    one before it is recorded and the one after it is claimed and read, so the event loop is
    not idle while a pass's outcomes are written (one transaction) nor while the next pass
    waits for its claim and reads.

    A pass's outcomes are held in memory until the next call to run() (or flush()); its rows
    stay leased meanwhile, so a worker killed before they are recorded leaves exactly those
    rows leased, and only they are sent again. The pass claimed ahead is leased too: a worker
    killed then leaves it leased, unsent, until its lease ends (its attempt is counted once
    more than it was made). Call flush() before stopping: it sends the pass claimed ahead and
    records everything. A pass is claimed before the failures of the one before are stored,
    so a host paused by them may still get that one pass (as it may from another worker's
    pass in flight).
    """

    def __init__(self, node: Node, *, limit: int = 256, concurrency: int = 64) -> None:
        self._node = node
        self._limit = limit
        self._concurrency = concurrency
        self._unrecorded: _Sent | None = None
        self._ahead: _Prepared | None = None  # claimed and read while the last pass was sent

    async def run(self) -> int:
        """Send a pass (the one claimed ahead, or one claimed now) while recording the
        previous one and claiming the next; returns how many were attempted. 0: nothing was
        due, and nothing is left unrecorded."""
        held = self._unrecorded
        if held is not None and _half_leased(held.moment):
            # Late (a slow pass, a short lease): its rows are recorded before any claim, which
            # would otherwise take them back once their lease ends, and send them again.
            await self._record_held()
        prepared, self._ahead = self._ahead, None
        if prepared is not None and _half_leased(prepared.moment):
            # Sent now, it might outlast its lease and be claimed by another worker meanwhile:
            # left leased instead, and claimed again (by anyone) once the lease ends.
            logger.warning(
                "%d deliveries claimed ahead wait for their lease to end", len(prepared.batch)
            )
            prepared = None
        previous = self._unrecorded
        if prepared is None:
            # The claim comes before the previous pass's transaction begins: on SQLite both
            # take the single write lock, and this order never makes one wait for the other.
            claimed = await _claim(self._node, self._limit, None)
            if not claimed.rows:
                await self.flush()
                return 0
            prepared = await _prepare(self._node, claimed)
        sent = await self._send_beside(prepared, self._record_then_claim(previous))
        return len(sent.attempted)

    async def _send_beside(self, prepared: _Prepared, beside: Awaitable[None]) -> _Sent:
        """Send `prepared` while `beside` (recording the pass before it) runs, and hold what
        was sent for the next call to record."""
        # What the previous pass learned of hosts' schemes is not stored yet: pass it on.
        previous, self._unrecorded = self._unrecorded, None
        if previous is not None:
            prepared = dataclasses.replace(prepared, known=prepared.known | previous.accepted)
        sending = _send(self._node, prepared, self._concurrency, None)
        sent, other = await asyncio.gather(sending, beside, return_exceptions=True)
        if isinstance(sent, BaseException):
            raise sent  # its rows stay leased and are sent again once the lease ends
        self._unrecorded = sent
        if isinstance(other, BaseException):
            raise other  # the previous pass's rows stay leased, as if the worker had died
        return sent

    async def _record_then_claim(self, previous: _Sent | None) -> None:
        """Record the previous pass, then claim and read the next one: one after the other,
        so on SQLite neither waits for the other's write lock."""
        if previous is not None:
            await _record(self._node.store, previous)
        claimed = await _claim(self._node, self._limit, None)
        if claimed.rows:
            self._ahead = await _prepare(self._node, claimed)

    async def _record_held(self) -> None:
        previous, self._unrecorded = self._unrecorded, None
        if previous is not None:
            await _record(self._node.store, previous)

    async def flush(self) -> None:
        """Send the pass claimed ahead, if any, and record every pass sent: the pass in
        progress is finished, and no row is left leased."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            previous = self._unrecorded
            await self._send_beside(
                ahead, _record(self._node.store, previous) if previous else _nothing()
            )
        await self._record_held()


def _half_leased(moment: datetime) -> bool:
    """Half the lease of rows claimed at `moment` is gone."""
    return utcnow() >= moment + lease() / 2


async def _nothing() -> None:
    return None


@dataclass(frozen=True)
class _Claimed:
    rows: list[dict[str, Any]]
    moment: datetime


@dataclass(frozen=True)
class _Sent:
    """A pass sent, its outcomes not yet stored."""

    attempted: list[_Attempted]
    known: dict[str, str]  # host -> scheme, as stored when the pass began
    accepted: dict[str, str]  # host -> scheme a 2xx answered in this pass
    moment: datetime


async def _claim(node: Node, limit: int, now: datetime | None) -> _Claimed:
    moment = now or utcnow()
    rows = await node.store.claim_deliveries(
        now=moment, lease_until=moment + lease(), limit=limit, worker=worker_name()
    )
    return _Claimed(rows, moment)


@dataclass(frozen=True)
class _Prepared:
    """A claimed pass ready to send: proofs added, keys loaded, hosts' schemes known."""

    batch: list[Delivery]
    signing_keys: dict[str, keys.PrivateKey | _Unsignable]
    stored: dict[str, str]  # host -> scheme, as stored when the pass began
    known: dict[str, str]  # the same, with what the pass before learned
    moment: datetime


async def _prepare(
    node: Node, claimed: _Claimed, learned: dict[str, str] | None = None
) -> _Prepared:
    """Everything a pass reads before sending: done before the previous pass's record starts,
    so the first requests go out while that transaction runs."""
    batch = await _with_proofs(node, [Delivery(**row) for row in claimed.rows])
    signing_keys = {name: await _signing_key(node, name) for name in {d.sender for d in batch}}
    stored = await knocking.known_schemes(node.store, {d.host for d in batch}, claimed.moment)
    return _Prepared(batch, signing_keys, stored, stored | (learned or {}), claimed.moment)


async def _send(node: Node, prepared: _Prepared, concurrency: int, now: datetime | None) -> _Sent:
    """Attempt every claimed row, `concurrency` at a time; a host not known to take a scheme is
    probed first."""
    signing_keys, known = prepared.signing_keys, prepared.known
    probes, rest = knocking.probe_first(prepared.batch, lambda d: d.host, known)

    async def attempt_all(deliveries: list[Delivery], schemes: dict[str, str]) -> list[_Attempted]:
        # `concurrency` tasks take the rows in turn, each the next as soon as its last is done:
        # a task and a semaphore wait per row cost more than the row's own bookkeeping.
        done: list[_Attempted | None] = [None] * len(deliveries)
        turns = iter(enumerate(deliveries))

        async def take_turns() -> None:
            for n, d in turns:
                done[n] = await _attempt(node, d, signing_keys[d.sender], now, schemes.get(d.host))

        await asyncio.gather(*(take_turns() for _ in range(min(concurrency, len(deliveries)))))
        return [item for item in done if item is not None]

    done = await attempt_all(probes, known)
    probed = _accepted(done)
    done += await attempt_all(rest, known | probed)
    return _Sent(done, prepared.stored, probed | _accepted(done), prepared.moment)


async def _record(store: Store, sent: _Sent) -> None:
    await knocking.remember(store, sent.accepted, sent.known, sent.moment)
    # The whole pass is recorded in one transaction (node/storage/delivery_batch.py); a worker
    # killed before it commits leaves these rows leased, and only they are sent again.
    await _record_pass(store, sent.attempted)


async def _with_proofs(node: Node, batch: list[Delivery]) -> list[Delivery]:
    """Each activity signed by its sender for FEP-8b32 (node/federation/integrity.py), once per
    activity in a pass: stored unsigned, like the HTTP signature, it is signed when sent."""
    bodies: dict[tuple[str, str], str] = {}
    for item in batch:
        if (item.sender, item.body) not in bodies:
            bodies[item.sender, item.body] = await _proven_body(node, item.sender, item.body)
    return [dataclasses.replace(item, body=bodies[item.sender, item.body]) for item in batch]


async def _proven_body(node: Node, sender: str, body: str) -> str:
    row = await node.store.local_actor(sender)
    activity = json.loads(body)
    if row is None or not isinstance(activity, dict) or "proof" in activity:
        return body
    try:
        signed = await integrity.with_proofs(node, actors.local_actor(node.settings, row), activity)
    except (proofs.ProofError, vault.VaultError) as exc:  # sent without; the log says why
        logger.warning("no proof on %s: %s", activity.get("id"), exc)
        return body
    return json.dumps(signed, ensure_ascii=False, separators=(",", ":"))


def _accepted(attempted: list[_Attempted]) -> dict[str, str]:
    """host -> the signature scheme its 2xx answers came back to, in this pass."""
    return {
        item.delivery.host: item.result.signed_with
        for item in attempted
        if item.result.signed_with is not None
    }


@dataclass(frozen=True)
class _Unsignable:
    """Why a sender's deliveries cannot be signed; `final`: no later attempt can change it."""

    reason: str
    final: bool


async def _signing_key(node: Node, username: str) -> keys.PrivateKey | _Unsignable:
    row = await node.store.local_actor(username)
    if row is None:
        return _Unsignable(f"sender {username} is gone", final=True)
    actor = actors.local_actor(node.settings, row)
    cache_key = (actor.key_id, row.private_key_sealed)
    if cache_key not in _SIGNING_KEYS:
        try:
            _SIGNING_KEYS[cache_key] = await asyncio.to_thread(_load_key, actor, node.secret)
        except vault.VaultError as exc:
            # Recorded in the delivery log (`conode log --deliveries`) and retried with backoff,
            # so restoring the right node.secret lets the queue drain: never a failing pass.
            logger.error("cannot sign as %s: %s", username, exc)
            return _Unsignable(f"cannot sign as {username}: {exc}", final=False)
    return _SIGNING_KEYS[cache_key]


def _not_sent(delivery: Delivery, unsignable: _Unsignable, moment: datetime) -> Outcome:
    if unsignable.final or delivery.attempts >= MAX_ATTEMPTS:
        return Outcome("gave_up", f"{unsignable.reason}: gave up", host_failed=None)
    later = moment + backoff(delivery.attempts)
    return Outcome("retry", unsignable.reason, host_failed=None, next_attempt_at=later)


def _load_key(actor: actors.LocalActor, secret: bytes) -> keys.PrivateKey:
    key = actors.private_key(actor, secret)
    return _ParsedKey(key_id=key.key_id, pem=key.pem, parsed=key.load())


def _utc_clock() -> datetime:
    return datetime.now(UTC)


def _fixed_clock(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


@dataclass(frozen=True)
class _Attempted:
    delivery: Delivery
    result: DeliveryResult
    outcome: Outcome
    moment: datetime


async def _attempt(
    node: Node,
    delivery: Delivery,
    key: keys.PrivateKey | _Unsignable,
    now: datetime | None,
    known: str | None,
) -> _Attempted:
    if isinstance(key, _Unsignable):
        moment = now or utcnow()
        result = DeliveryResult(status=None, error=key.reason)
        return _Attempted(delivery, result, _not_sent(delivery, key, moment), moment)
    body = delivery.body.encode()
    if node.deliverer is not None:
        result = await node.deliverer.deliver(delivery.inbox_url, body, key, now=now, known=known)
    else:
        host = host_of_url(delivery.inbox_url)
        clock = _fixed_clock(now) if now else _utc_clock
        auth = HttpSignatureAuth(key, clock=clock, known={host: known} if known else None)
        result = await client.deliver(
            node.http, delivery.inbox_url, body, node.fetch_policy, auth=auth
        )
        result = dataclasses.replace(result, signed_with=auth.accepted.get(host))
    moment = now or utcnow()
    return _Attempted(delivery, result, classify(result, delivery.attempts, moment), moment)


async def _record_pass(store: Store, attempted: list[_Attempted]) -> None:
    """Store every outcome, the hosts' health and the log rows in one transaction: delivered
    rows in one UPDATE per distinct answer, healthy hosts in one upsert, the rest one by one
    (their next attempt differs)."""
    # Every worker's pass takes the `hosts` rows it changes in one order, host by host: the
    # healthy hosts waiting in `healthy` all sort before the host being written, so they are
    # written first. Two passes then never wait on each other in a circle (PostgreSQL found a
    # deadlock when successes were deferred to the pass's end, past failures of later hosts).
    attempted = sorted(attempted, key=lambda item: item.delivery.host)
    delivered: dict[int | None, list[int]] = {}
    entries = []
    async with store.transaction():
        healthy: list[tuple[str, datetime]] = []  # (host, last success), not yet written
        for host, items in itertools.groupby(attempted, key=lambda item: item.delivery.host):
            healthy_since: datetime | None = None  # a success not yet written for `host`
            for item in items:
                delivery, outcome = item.delivery, item.outcome
                reason = outcome.reason
                if outcome.result == "delivered":
                    delivered.setdefault(item.result.status, []).append(delivery.id)
                else:
                    await _finish(store, item)
                if outcome.host_failed is False:
                    healthy_since = item.moment
                elif outcome.host_failed:
                    if healthy_since is not None:  # a success earlier in the pass resets first
                        healthy.append((host, healthy_since))
                        healthy_since = None
                    await store.hosts_succeeded(healthy)
                    healthy = []
                    reason += await _count_host_failure(store, host, item.moment)
                entries.append(_log_entry(delivery, outcome.result, reason))
            if healthy_since is not None:
                healthy.append((host, healthy_since))
        await store.hosts_succeeded(healthy)
        for status, ids in delivered.items():
            await store.finish_deliveries(
                ids, status="delivered", last_status=status, last_error=None
            )
        await store.log_many(entries)
    _log_pass(attempted, entries)


def _log_pass(attempted: list[_Attempted], entries: list[dict[str, Any]]) -> None:
    """One INFO line per pass, and one per row not delivered; a delivered row is logged at
    DEBUG only. Every attempt is in the activity log (`conode log --deliveries`); a line for
    each of a fan-out's deliveries cost the worker ~13 us a row on the bench machine (made
    and written whether or not anything reads the worker's standard error)."""
    outcomes = Counter(entry["outcome"] for entry in entries)
    for item, entry in zip(attempted, entries, strict=True):
        level = logging.DEBUG if entry["outcome"] == "delivered" else logging.INFO
        if logger.isEnabledFor(level):
            logger.log(
                level,
                "delivery %s to %s (attempt %d): %s, %s",
                item.delivery.activity_id,
                item.delivery.inbox_url,
                item.delivery.attempts,
                entry["outcome"],
                entry["reason"],
            )
    logger.info(
        "delivery pass: %d attempted, %d delivered, %d to retry, %d given up",
        len(entries),
        outcomes["delivered"],
        outcomes["retry"],
        outcomes["gave_up"],
    )


async def _finish(store: Store, item: _Attempted) -> None:
    """A row not delivered: pending again with its next attempt, or given up."""
    result, outcome = item.result, item.outcome
    await store.finish_delivery(
        item.delivery.id,
        status="pending" if outcome.result == "retry" else outcome.result,
        next_attempt_at=outcome.next_attempt_at,
        last_status=result.status,
        last_error=f"{result.error}: {result.detail}" if result.detail else result.error,
    )


def _log_entry(delivery: Delivery, outcome: str, reason: str) -> dict[str, Any]:
    activity_type, actor_id = _summary(delivery.body)
    return {
        "direction": "delivery",
        "outcome": outcome,
        "reason": reason,
        "activity_id": delivery.activity_id,
        "type_": activity_type,
        "actor_id": actor_id,
        "host": delivery.host,
    }


async def _count_host_failure(store: Store, host: str, now: datetime) -> str:
    """Count the failure; pause the host when it has failed too often. Returns text for the log."""
    failures, paused_until = await store.host_failed(host, now)
    if failures < HOST_PAUSE_AFTER or (paused_until is not None and paused_until > now):
        return ""
    pause = host_pause(failures)
    await store.pause_host(host, now + pause)
    return f"; host paused for {duration(pause)} after {failures} failures in a row"


@functools.lru_cache(maxsize=64)
def _summary(body: str) -> tuple[str | None, str | None]:
    """The activity's type and actor, for the log; parsed once per activity, not per row."""
    document: Any = json.loads(body)
    kind, actor = document.get("type"), document.get("actor")
    return (
        kind if isinstance(kind, str) else None,
        actor if isinstance(actor, str) else None,
    )
