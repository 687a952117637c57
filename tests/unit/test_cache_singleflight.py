"""SingleFlight on its own: collapsing, batches, cancellation, failures."""

from __future__ import annotations

import asyncio

import pytest

from customs_gateway.cache import SingleFlight


class Loads:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.gate = asyncio.Event()
        self.error: Exception | None = None

    async def batch(self, keys: list[str]) -> dict[str, str]:
        self.calls.append(keys)
        await self.gate.wait()
        if self.error is not None:
            raise self.error
        return {key: key.upper() for key in keys}


async def test_concurrent_calls_for_one_key_share_one_load() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    loads = Loads()

    waiters = [asyncio.create_task(flight.do_many(["k"], loads.batch)) for _ in range(100)]
    await asyncio.sleep(0)
    assert flight.in_flight("k") and len(flight) == 1
    loads.gate.set()

    assert await asyncio.gather(*waiters) == [{"k": "K"}] * 100
    assert loads.calls == [["k"]]
    assert not flight.in_flight("k"), "nothing kept once the load is over"


async def test_do_wraps_a_single_load() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    calls = 0
    gate = asyncio.Event()

    async def load() -> int:
        nonlocal calls
        calls += 1
        await gate.wait()
        return 42

    waiters = [asyncio.create_task(flight.do("k", load)) for _ in range(10)]
    await asyncio.sleep(0)
    gate.set()

    assert await asyncio.gather(*waiters) == [42] * 10 and calls == 1


async def test_a_batch_joins_loads_in_flight_and_loads_only_the_rest() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    loads = Loads()

    first = asyncio.create_task(flight.do_many(["a", "b"], loads.batch))
    await asyncio.sleep(0)
    second = asyncio.create_task(flight.do_many(["b", "c", "c"], loads.batch))
    await asyncio.sleep(0)
    loads.gate.set()

    assert await first == {"a": "A", "b": "B"}
    assert await second == {"b": "B", "c": "C"}
    assert loads.calls == [["a", "b"], ["c"]]


async def test_cancelling_the_first_caller_leaves_the_load_to_the_others() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    loads = Loads()
    waiters = [asyncio.create_task(flight.do_many(["k"], loads.batch)) for _ in range(3)]
    await asyncio.sleep(0)

    waiters[0].cancel()
    await asyncio.sleep(0)
    loads.gate.set()

    assert await asyncio.gather(*waiters[1:]) == [{"k": "K"}] * 2
    assert waiters[0].cancelled() and len(loads.calls) == 1


async def test_a_load_outlives_all_its_waiters() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    loads = Loads()
    waiter = asyncio.create_task(flight.do_many(["k"], loads.batch))
    await asyncio.sleep(0)

    waiter.cancel()
    await asyncio.sleep(0)
    assert flight.in_flight("k"), "the load goes on (its result will be cached for the next caller)"
    second = asyncio.create_task(flight.do_many(["k"], loads.batch))
    await asyncio.sleep(0)
    loads.gate.set()

    assert await second == {"k": "K"} and len(loads.calls) == 1


async def test_a_failure_reaches_every_waiter_once_and_is_forgotten() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    loads = Loads()
    loads.error = RuntimeError("upstream down")
    waiters = [asyncio.create_task(flight.do_many(["k"], loads.batch)) for _ in range(5)]
    await asyncio.sleep(0)
    loads.gate.set()

    outcomes = await asyncio.gather(*waiters, return_exceptions=True)

    assert all(outcome is loads.error for outcome in outcomes)
    assert not flight.in_flight("k")
    loads.error = None
    assert await flight.do_many(["k"], loads.batch) == {"k": "K"}
    assert len(loads.calls) == 2


async def test_a_load_that_forgets_a_key_is_a_key_error() -> None:
    flight: SingleFlight[str, str] = SingleFlight()

    async def forgetful(keys: list[str]) -> dict[str, str]:
        return {}

    with pytest.raises(KeyError):
        await flight.do_many(["k"], forgetful)
    assert not flight.in_flight("k")


async def test_cancel_all_stops_the_loads() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    loads = Loads()
    waiter = asyncio.create_task(flight.do_many(["k"], loads.batch))
    await asyncio.sleep(0)

    flight.cancel_all()

    with pytest.raises(asyncio.CancelledError):
        await waiter
    await asyncio.sleep(0)
    assert not flight.in_flight("k")
