"""The delivery retry policy, as constants and pure functions (delivery.py beside it applies it).

It reads like gotosocial's transport/delivery and microblog.pub's outgoing_activities:
exponential backoff with jitter, Retry-After honoured, most 4xx final, a failing host paused.
"""

from __future__ import annotations

import os
import random
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from activitypub.client import PRIVATE_ADDRESS_REFUSED, DeliveryResult

# After the n-th failed attempt the row waits BACKOFF_BASE * BACKOFF_FACTOR**(n-1), capped at
# BACKOFF_CAP, then spread by ±JITTER so a host that comes back is not hit by every row at once:
# 30 s, 1.5 min, 4.5 min, 13.5 min, 40 min, 2 h, 6 h, then 12 h; the 12th attempt comes about
# 57 hours (2.4 days) after the first, and a 12th failure gives up.
MAX_ATTEMPTS = 12
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_FACTOR = 3
BACKOFF_CAP = timedelta(hours=12)
JITTER = 0.2
# A longer Retry-After is honoured up to this long.
RETRY_AFTER_CAP = timedelta(hours=12)
# 408, 429 and every 5xx are worth another try; so are network errors (no status at all) except
# the ones below, which no retry can fix. Any other answer (400, 401, 403, 404, 410, 3xx) is final.
RETRY_STATUSES = frozenset({408, 429})
FINAL_ERRORS = frozenset({PRIVATE_ADDRESS_REFUSED, "scheme not allowed", "invalid url"})
# A claimed row is leased to one worker this long. It must outlast a whole batch: with the
# defaults, ceil(256 / 64) rounds of at most ~35 s each (resolve + FetchPolicy.total_timeout).
# A worker killed mid-batch leaves its rows leased until then; only those may be sent twice.
# A long-running worker records a batch while sending the next (delivery.Passes), and before
# its next claim once half of this has gone by, so the lease still covers one batch; the batch
# it claims ahead while sending is sent only while at least half of its lease is left.
LEASE = timedelta(minutes=5)
# Overrides LEASE in seconds; the kill test sets it so a restarted worker need not wait 5 min.
LEASE_ENV = "CONODE_DELIVERY_LEASE_SECONDS"
# A host failing HOST_PAUSE_AFTER times in a row is left alone for HOST_PAUSE, doubled for each
# further failure (capped); failures of requests already in flight when it was paused add nothing.
HOST_PAUSE_AFTER = 5
HOST_PAUSE = timedelta(minutes=10)
HOST_PAUSE_CAP = timedelta(hours=12)


@dataclass(frozen=True)
class Outcome:
    """What one attempt means for its row (`result`: delivered | retry | gave_up) and its host
    (`host_failed`: True counts a failure, False resets, None leaves the health as it is)."""

    result: str
    reason: str
    host_failed: bool | None
    next_attempt_at: datetime | None = None


def worker_name() -> str:
    """hostname:pid, recorded with each claim (the pid of this process, even after a fork)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def lease() -> timedelta:
    value = os.environ.get(LEASE_ENV, "").strip()
    return timedelta(seconds=float(value)) if value else LEASE


def backoff(attempts: int, *, spread: float | None = None) -> timedelta:
    """The wait after the `attempts`-th failure; `spread` in [-JITTER, JITTER], random if None."""
    seconds = BACKOFF_BASE.total_seconds() * BACKOFF_FACTOR ** max(attempts - 1, 0)
    seconds = min(seconds, BACKOFF_CAP.total_seconds())
    if spread is None:
        spread = random.uniform(-JITTER, JITTER)
    return timedelta(seconds=seconds * (1 + spread))


def host_pause(failures: int) -> timedelta:
    """How long a host with `failures` consecutive failures (≥ HOST_PAUSE_AFTER) is left alone."""
    doublings = min(max(failures - HOST_PAUSE_AFTER, 0), 16)
    return min(HOST_PAUSE * (1 << doublings), HOST_PAUSE_CAP)


def is_retryable(result: DeliveryResult) -> bool:
    if result.status is None:
        return result.error not in FINAL_ERRORS
    return result.status in RETRY_STATUSES or result.status >= 500


def retry_at(attempts: int, retry_after: datetime | float | None, now: datetime) -> datetime:
    """Backoff from now, or the server's Retry-After (seconds or a date) when that is later."""
    when = now + backoff(attempts)
    if isinstance(retry_after, datetime):
        asked = retry_after
    elif retry_after is not None:
        asked = now + timedelta(seconds=retry_after)
    else:
        return when
    return max(when, min(asked, now + RETRY_AFTER_CAP))


def classify(result: DeliveryResult, attempts: int, now: datetime) -> Outcome:
    """The policy: what the `attempts`-th attempt's result means."""
    if result.ok:
        return Outcome("delivered", f"http {result.status}", host_failed=False)
    reason = result.error or f"http {result.status}"
    if not is_retryable(result):
        return Outcome("gave_up", f"{reason}: gave up", host_failed=None)
    if attempts >= MAX_ATTEMPTS:
        return Outcome("gave_up", f"{reason}: gave up after {attempts} attempts", host_failed=True)
    when = retry_at(attempts, result.retry_after, now)
    return Outcome("retry", f"{reason}; retry in {duration(when - now)}", True, when)


def duration(span: timedelta) -> str:
    """A wait as a log shows it: 45s, 14m, 2.5h."""
    seconds = round(span.total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{round(seconds / 60)}m"
    return f"{round(seconds / 3600, 1):g}h"
