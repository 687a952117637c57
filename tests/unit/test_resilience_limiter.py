"""The bulkhead on a real event loop: the bound holds, a full one sheds after the wait, nothing leaks."""

from __future__ import annotations

import asyncio

import pytest

from customs_gateway.domain import Authority
from customs_gateway.errors import UpstreamUnavailable
from customs_gateway.resilience import ConcurrencyLimiter, TooManyConcurrentCalls

GACC = Authority.GACC


async def test_never_more_than_the_limit_in_flight() -> None:
    limiter = ConcurrencyLimiter(GACC, limit=3, max_wait_s=5.0)
    peak = 0

    async def call() -> None:
        nonlocal peak
        async with limiter.slot():
            peak = max(peak, limiter.in_flight)
            await asyncio.sleep(0.002)

    await asyncio.gather(*(call() for _ in range(20)))
    assert peak == 3
    assert (limiter.in_flight, limiter.waiting) == (0, 0)


async def test_a_caller_that_would_wait_too_long_is_shed() -> None:
    limiter = ConcurrencyLimiter(GACC, limit=1, max_wait_s=0.02)
    release = asyncio.Event()

    async def holder() -> None:
        async with limiter.slot():
            await release.wait()

    task = asyncio.create_task(holder())
    await asyncio.sleep(0)
    started = asyncio.get_running_loop().time()
    with pytest.raises(TooManyConcurrentCalls, match="too many concurrent calls") as caught:
        async with limiter.slot(endpoint="manifests.list"):
            pytest.fail("must not get a slot")
    assert isinstance(caught.value, UpstreamUnavailable)
    assert caught.value.endpoint == "manifests.list"
    assert 0.015 <= asyncio.get_running_loop().time() - started < 0.5
    release.set()
    await task
    assert (limiter.in_flight, limiter.waiting) == (0, 0)


async def test_a_waiter_gets_the_slot_freed_within_its_wait() -> None:
    limiter = ConcurrencyLimiter(GACC, limit=1, max_wait_s=1.0)
    async with limiter.slot():
        waiter = asyncio.create_task(_take(limiter))
        await asyncio.sleep(0.01)
        assert limiter.waiting == 1
    assert await waiter == 1


async def test_the_callers_shorter_wait_wins_and_zero_still_takes_a_free_slot() -> None:
    limiter = ConcurrencyLimiter(GACC, limit=1, max_wait_s=10.0)
    async with limiter.slot(0.0):
        started = asyncio.get_running_loop().time()
        with pytest.raises(TooManyConcurrentCalls):
            async with limiter.slot(0.01):
                pass
        assert asyncio.get_running_loop().time() - started < 0.5


async def test_slots_come_back_after_errors_and_cancellation() -> None:
    limiter = ConcurrencyLimiter(GACC, limit=1, max_wait_s=5.0)
    with pytest.raises(RuntimeError):
        async with limiter.slot():
            raise RuntimeError("boom")
    holder = asyncio.create_task(_take(limiter, hold=10.0))
    await asyncio.sleep(0.01)
    waiter = asyncio.create_task(_take(limiter))
    await asyncio.sleep(0.01)
    waiter.cancel()
    holder.cancel()
    await asyncio.gather(holder, waiter, return_exceptions=True)
    assert (limiter.in_flight, limiter.waiting) == (0, 0)
    assert await _take(limiter) == 1


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        ConcurrencyLimiter(GACC, limit=0, max_wait_s=1.0)


async def _take(limiter: ConcurrencyLimiter, hold: float = 0.0) -> int:
    async with limiter.slot():
        await asyncio.sleep(hold)
        return limiter.in_flight
