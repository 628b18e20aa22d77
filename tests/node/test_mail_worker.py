"""A real `conode worker` sending mail to a real SMTP server (aiosmtpd on loopback) that stalls
in the middle of a message: the worker is SIGKILLed there and started again, and every mail
arrives. Sending is at least once: only a message the server took while the worker died
before recording it could come twice (here the stalled one is refused, so each comes once)."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from node.settings import Settings
from node.storage import Store

from ..conftest import free_port
from .test_delivery import _start_worker, _until
from .test_mail import Inbox, Smtp
from .web import add_member

MEMBERS = ("ann", "bob", "cat", "dan")
STALL_AT = 2  # the second message stalls, the worker is killed while it waits


class StallingInbox(Inbox):
    """Takes messages, except the STALL_AT-th: it answers only once released, with a 451."""

    def __init__(self) -> None:
        super().__init__()
        self.data_commands = 0
        self.stalled = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_commands += 1
        if self.data_commands == STALL_AT:
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 try again later"
        return await super().handle_DATA(server, session, envelope)


async def _sent(store: Store) -> int:
    return sum(job["status"] == "sent" for job in await store.mail_jobs())


async def test_a_worker_killed_mid_send_loses_no_mail(
    settings: Settings, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = StallingInbox()
    smtp = Smtp(free_port(), inbox)
    smtp.start()
    log = tmp_path / "worker.log"
    try:
        # Given four members with an address, each with a response to their offer to hear of
        for name in MEMBERS:
            await add_member(store, settings, name)
            row = await store.local_actor(name)
            assert row is not None
            await store.update_account(row.id, email=f"{name}@example.org")
            await store.add_notification(row.id, "response", f"/posts/{name}", text="Lifts")
        monkeypatch.setenv("CONODE_SMTP_URL", f"smtp://127.0.0.1:{smtp.port}")
        monkeypatch.setenv("CONODE_MAIL_FROM", "timebank@example.org")
        # When a `conode worker` sends them and is SIGKILLed while the server stalls on one
        first = await _start_worker(settings, log)
        await _until(lambda: _flag(inbox.stalled), 1, timeout=60)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        jobs = await store.mail_jobs()
        assert len(jobs) == len(MEMBERS), log.read_text()[-3000:]
        # (one sent; the stalled one and the rest of its batch leased to the dead worker)
        leased = [j for j in jobs if j["status"] == "pending" and j["locked_until"]]
        assert len(leased) == len(MEMBERS) - 1 and len(inbox.messages) == 1
        inbox.release.set()
        # And a new worker is started, then stopped once every mail is sent
        second = await _start_worker(settings, log)
        await _until(lambda: _sent(store), len(MEMBERS), timeout=60)
        second.send_signal(signal.SIGTERM)
        exit_status = await asyncio.wait_for(second.wait(), timeout=15)
    finally:
        smtp.stop()
    # Then every member got their mail, once
    received = Counter(str(message["To"]) for message in inbox.messages)
    assert received == Counter(f"{name}@example.org" for name in MEMBERS), log.read_text()[-3000:]
    assert exit_status == 0, log.read_text()[-3000:]
    assert {job["status"] for job in await store.mail_jobs()} == {"sent"}


async def _flag(event: threading.Event) -> int:
    return int(event.is_set())
