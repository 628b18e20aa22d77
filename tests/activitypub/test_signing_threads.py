import asyncio
import functools
import threading

import pytest

from activitypub.signing_threads import MAX_BATCH, SigningThreads


def numbered(n: int) -> tuple[int, str]:
    return n, threading.current_thread().name


def squared(n: int) -> int:
    return n * n


async def test_each_call_is_answered_with_its_own_result_from_a_signing_thread() -> None:
    signer = SigningThreads(2)
    try:
        answers = await asyncio.gather(
            *(signer.run(functools.partial(numbered, n)) for n in range(50))
        )
    finally:
        signer.close()
    assert [n for n, _ in answers] == list(range(50))
    assert {name for _, name in answers} <= {"conode-signing"}


async def test_calls_waiting_while_the_thread_is_busy_are_all_answered() -> None:
    signer, busy = SigningThreads(1), threading.Event()
    try:
        first = signer.run(lambda: busy.wait(5))
        waiting = [signer.run(functools.partial(squared, n)) for n in range(3 * MAX_BATCH)]
        busy.set()
        assert await first is True
        assert await asyncio.gather(*waiting) == [n * n for n in range(3 * MAX_BATCH)]
    finally:
        signer.close()


async def test_an_error_reaches_the_caller_and_the_thread_goes_on() -> None:
    signer = SigningThreads(1)

    def unusable_key() -> None:
        raise ValueError("unusable key")

    try:
        with pytest.raises(ValueError, match="unusable key"):
            await asyncio.wait_for(signer.run(unusable_key), timeout=5)
        assert await asyncio.wait_for(signer.run(lambda: "next"), timeout=5) == "next"
    finally:
        signer.close()


async def test_a_cancelled_call_leaves_the_others_in_its_batch_answered() -> None:
    signer, busy = SigningThreads(1), threading.Event()
    try:
        first = signer.run(lambda: busy.wait(5))
        given_up, wanted = signer.run(lambda: 1), signer.run(lambda: 2)
        given_up.cancel()
        busy.set()
        await first
        assert await asyncio.wait_for(wanted, timeout=5) == 2
    finally:
        signer.close()


def test_a_loop_that_closed_before_its_answer_does_not_stop_the_thread() -> None:
    # Given a call made on a loop that is gone by the time the call returns
    signer, busy = SigningThreads(1), threading.Event()

    async def abandon() -> None:
        signer.run(lambda: busy.wait(5))

    asyncio.run(abandon())
    busy.set()

    # Then the thread still answers calls from another loop
    async def ask() -> str:
        return await asyncio.wait_for(signer.run(lambda: "still signing"), timeout=5)

    try:
        assert asyncio.run(ask()) == "still signing"
    finally:
        signer.close()


async def test_close_stops_the_threads_and_a_later_call_starts_them_again() -> None:
    signer, before = SigningThreads(2), set(threading.enumerate())
    assert await signer.run(lambda: 1) == 1
    started = set(threading.enumerate()) - before
    signer.close()
    assert [t.name for t in started] == ["conode-signing"] * 2
    assert not [t for t in started if t.is_alive()]
    try:
        assert await signer.run(lambda: 2) == 2
    finally:
        signer.close()
