"""Single flight: concurrent loads of the same key share one in-flight call.

Twenty GraphQL requests arriving together for a manifest nobody has cached must cost the upstream
one call, not twenty. The first caller for a key starts the load as a *task of its own*; later
callers for that key await the same task until it finishes. Then the key is forgotten: results and
exceptions are handed to the callers that were waiting, never kept for later ones (caching is the
cache's business, and an exception must never be cached).

Batches: :meth:`SingleFlight.do_many` takes a set of keys and starts one load for those nobody is
loading yet, joining the loads already in flight for the rest, so overlapping DataLoader batches
still ask the upstream for each key once.

Cancellation: each waiter awaits the task through :func:`asyncio.shield`, so a waiter that gives
up (its request was cancelled, its deadline passed) leaves the load running for the others. Only
cancelling the task itself (:meth:`SingleFlight.cancel_all`, at shutdown) stops a load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from typing import Generic, TypeVar

__all__ = ["SingleFlight"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

BatchLoad = Callable[[list[K]], Awaitable[Mapping[K, V]]]


def _mark_retrieved(task: asyncio.Task[object]) -> None:
    # If every waiter gave up, nobody reads the exception and asyncio would log "Task exception
    # was never retrieved" at garbage collection; the waiters that did not give up got it.
    if not task.cancelled():
        task.exception()


class SingleFlight(Generic[K, V]):
    """Collapses concurrent loads per key. One instance per kind of load; not thread-safe."""

    def __init__(self) -> None:
        self._calls: dict[K, asyncio.Task[dict[K, V]]] = {}

    def __len__(self) -> int:
        """Keys being loaded right now."""
        return len(self._calls)

    def in_flight(self, key: K) -> bool:
        return key in self._calls

    async def do(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """``await load()`` unless a load of ``key`` is in flight, in which case join it."""

        async def load_one(keys: list[K]) -> dict[K, V]:
            return {key: await load()}

        return (await self.do_many([key], load_one))[key]

    async def do_many(self, keys: Iterable[K], load: BatchLoad[K, V]) -> dict[K, V]:
        """Values for ``keys``: one ``load(keys nobody is loading)`` call, joined with loads in flight.

        ``load`` must return a value for every key it is given; a missing one is a bug and raises
        :class:`KeyError` in every waiter. If a load raises, every waiter for its keys gets the
        exception.
        """
        wanted = list(dict.fromkeys(keys))
        own = [key for key in wanted if key not in self._calls]
        if own:
            task = asyncio.get_running_loop().create_task(self._run(own, load))
            task.add_done_callback(_mark_retrieved)
            task.add_done_callback(lambda done: self._forget(own, done))
            for key in own:
                self._calls[key] = task
        tasks = {key: self._calls[key] for key in wanted}
        for task in dict.fromkeys(tasks.values()):
            await asyncio.shield(task)
        return {key: tasks[key].result()[key] for key in wanted}

    def cancel_all(self) -> None:
        """Cancel every load in flight (shutdown); their waiters get :class:`asyncio.CancelledError`."""
        for task in set(self._calls.values()):
            task.cancel()

    async def _run(self, keys: list[K], load: BatchLoad[K, V]) -> dict[K, V]:
        try:
            values = await load(keys)
            missing = [key for key in keys if key not in values]
            if missing:
                raise KeyError(f"the load returned no value for {missing!r}")
            return {key: values[key] for key in keys}
        finally:
            # Forget the keys as soon as the load is over, not one loop iteration later in the
            # done callback: a caller arriving in between must start afresh, not pick up an
            # exception (the callback still runs, for a task cancelled before it started).
            current = asyncio.current_task()
            if current is not None:
                self._forget(keys, current)

    def _forget(self, keys: list[K], task: asyncio.Task[dict[K, V]] | asyncio.Task[object]) -> None:
        for key in keys:
            if self._calls.get(key) is task:
                del self._calls[key]
