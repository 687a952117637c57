"""The entity cache the sources call: upstream entities by (authority, resource, id | list query).

Two levels of API:

* :meth:`EntityCache.get_many` / :meth:`EntityCache.set_many`: one multi-get / multi-set to the
  backend, entries wrapped in the envelope with their fresh-until and stale-until instants;
* :meth:`EntityCache.load_many`: the read-through a DataLoader batch function wants. One
  multi-get; fresh entries returned; misses fetched with one ``fetch_missing(keys)`` call,
  single-flighted per key across concurrent callers, and stored; stale entries served at once and
  refreshed in the background (stale-while-revalidate, one refresh in flight per key), or, with
  ``stale_while_revalidate=False``, refetched and served only if the fetch fails (stale-if-error).
  :class:`LoadResult` says which keys were answered stale, for the response's ``extensions``.

The cache is an optimisation, never a new way to fail: a backend that errors or times out is
logged, counted (``backend_error``) and treated as all misses; a write that fails is dropped. What
is never stored: an exception, a value that is not bytes (the caller validates and serialises
upstream data *before* handing it over), anything for a key the caller did not ask for.

Background refreshes run in tasks owned by the cache (:meth:`EntityCache.close` cancels them); they
call the ``fetch_missing`` of the request that found the stale entry, so it must not depend on
anything that request closes when it ends (the sources' long-lived clients are fine).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeAlias, TypeVar

from .backend import CacheBackend
from .envelope import NOT_FOUND, CorruptEntry, Entry, Freshness, NotFound, Value, decode, encode
from .keys import EntityKey, KeyBuilder, Resource
from .observer import CacheObserver, NullObserver
from .policy import CachePolicy
from .singleflight import SingleFlight

__all__ = ["CacheHit", "EntityCache", "FetchMissing", "LoadResult", "PolicyFor"]

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=EntityKey)

FetchMissing: TypeAlias = Callable[[list[K]], Awaitable[Mapping[K, bytes | NotFound | None]]]
"""Fetch these keys upstream. A key absent from the result, or mapped to ``None`` or
:data:`NOT_FOUND`, does not exist upstream (and is cached as such, briefly). Raise if the upstream
failed: nothing is cached then."""

PolicyFor: TypeAlias = CachePolicy | Callable[[bytes], CachePolicy]
"""One policy for every fetched value, or a function choosing it from the value (final or not)."""


@dataclass(frozen=True, slots=True)
class CacheHit:
    """A cached entry that may still be served: fresh, or stale within its grace."""

    value: Value
    freshness: Freshness
    fresh_until: float
    stale_until: float

    @property
    def is_fresh(self) -> bool:
        return self.freshness is Freshness.FRESH

    @property
    def found(self) -> bool:
        return self.value is not NOT_FOUND


@dataclass(frozen=True, slots=True)
class LoadResult(Generic[K]):
    """Every requested key's value (bytes or :data:`NOT_FOUND`) and which were answered stale.

    ``stale_since``: for each stale key, the instant (clock seconds) its entry stopped being fresh,
    so the caller can tell its client how old the answer is.
    """

    values: dict[K, Value]
    stale: frozenset[K]
    stale_since: Mapping[K, float] = field(default_factory=dict)

    @property
    def stale_served(self) -> bool:
        return bool(self.stale)


@dataclass(frozen=True, slots=True)
class _Answer:
    value: Value
    stale: bool = False
    error: Exception | None = None
    fresh_until: float = 0.0


class EntityCache:
    """Upstream entities as bytes, with freshness, over one :class:`CacheBackend`.

    ``clock`` is wall-clock seconds (replicas sharing Redis compare instants written by each
    other); tests pass a manual one to move through freshness without sleeping.
    """

    def __init__(
        self,
        backend: CacheBackend,
        *,
        keys: KeyBuilder,
        not_found_policy: CachePolicy,
        observer: CacheObserver | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._backend = backend
        self._keys = keys
        self._not_found_policy = not_found_policy
        self._observer: CacheObserver = observer if observer is not None else NullObserver()
        self._clock = clock
        self._loads: SingleFlight[str, _Answer] = SingleFlight()
        self._refreshes: SingleFlight[str, Value] = SingleFlight()
        self._background: set[asyncio.Task[object]] = set()
        backend.add_eviction_listener(self._evicted)

    @property
    def backend(self) -> CacheBackend:
        return self._backend

    @property
    def key_builder(self) -> KeyBuilder:
        return self._keys

    def now(self) -> float:
        """The cache's clock (the one ``LoadResult.stale_since`` is read on)."""
        return self._clock()

    # -- plain reads and writes ---------------------------------------------------------------

    async def get_many(self, resource: Resource, keys: Iterable[K]) -> dict[K, CacheHit]:
        """Entries that may be served (fresh or stale), by key; absent keys are misses."""
        by_backend_key = {self._keys.build(resource, key): key for key in keys}
        entries = await self._read(list(by_backend_key))
        now = self._clock()
        hits: dict[K, CacheHit] = {}
        for backend_key, key in by_backend_key.items():
            entry = entries.get(backend_key)
            freshness = entry.freshness(now) if entry is not None else None
            if entry is not None and freshness is not None:
                hits[key] = CacheHit(entry.value, freshness, entry.fresh_until, entry.stale_until)
        fresh = sum(hit.is_fresh for hit in hits.values())
        self._count(resource, hits=fresh, stale=len(hits) - fresh, misses=len(by_backend_key) - len(hits))
        return hits

    async def get(self, resource: Resource, key: EntityKey) -> CacheHit | None:
        return (await self.get_many(resource, [key])).get(key)

    async def set_many(self, resource: Resource, items: Mapping[K, Value], policy: CachePolicy) -> None:
        """Store validated values (or :data:`NOT_FOUND`) under one policy, in one backend write."""
        await self._store([(self._keys.build(resource, key), value, policy) for key, value in items.items()])

    async def set(self, resource: Resource, key: EntityKey, value: Value, policy: CachePolicy) -> None:
        await self.set_many(resource, {key: value}, policy)

    async def invalidate(self, resource: Resource, key: EntityKey) -> None:
        try:
            await self._backend.delete(self._keys.build(resource, key))
        except Exception:
            self._backend_failed("delete")

    # -- read-through -------------------------------------------------------------------------

    async def load_many(
        self,
        resource: Resource,
        keys: Iterable[K],
        fetch_missing: FetchMissing[K],
        policy_for: PolicyFor,
        *,
        stale_while_revalidate: bool = True,
    ) -> LoadResult[K]:
        """Values for ``keys`` from the cache, fetching the rest with one ``fetch_missing`` call.

        Raises what ``fetch_missing`` raised if some key could be answered neither by the upstream
        nor by a stale entry; nothing is cached then.

        A key already being loaded by a concurrent call is not loaded again: this call waits for
        that load and gets its answer (fetched with that call's ``fetch_missing`` and policy, which
        for one resource are the same thing).
        """
        by_backend_key = {self._keys.build(resource, key): key for key in keys}

        async def load(owned: list[str]) -> dict[str, _Answer]:
            wanted = {backend_key: by_backend_key[backend_key] for backend_key in owned}
            return await self._read_through(resource, wanted, fetch_missing, policy_for, stale_while_revalidate)

        answers = await self._loads.do_many(by_backend_key, load)
        values: dict[K, Value] = {}
        stale: dict[K, float] = {}
        for backend_key, key in by_backend_key.items():
            answer = answers[backend_key]
            if answer.error is not None:
                raise answer.error
            values[key] = answer.value
            if answer.stale:
                stale[key] = answer.fresh_until
        return LoadResult(values, frozenset(stale), stale)

    async def _read_through(
        self,
        resource: Resource,
        wanted: dict[str, K],
        fetch_missing: FetchMissing[K],
        policy_for: PolicyFor,
        stale_while_revalidate: bool,
    ) -> dict[str, _Answer]:
        entries = await self._read(list(wanted))
        now = self._clock()
        answers: dict[str, _Answer] = {}
        to_fetch: dict[str, K] = {}
        to_refresh: dict[str, K] = {}
        fallbacks: dict[str, Entry] = {}
        for backend_key, key in wanted.items():
            entry = entries.get(backend_key)
            freshness = entry.freshness(now) if entry is not None else None
            if entry is not None and freshness is Freshness.FRESH:
                answers[backend_key] = _Answer(entry.value)
            elif entry is not None and freshness is Freshness.STALE and stale_while_revalidate:
                answers[backend_key] = _Answer(entry.value, stale=True, fresh_until=entry.fresh_until)
                to_refresh[backend_key] = key
            else:
                to_fetch[backend_key] = key
                if entry is not None and freshness is Freshness.STALE:
                    fallbacks[backend_key] = entry
        self._count(resource, hits=len(answers) - len(to_refresh), stale=len(to_refresh), misses=len(to_fetch))
        if to_refresh:
            self._revalidate_in_background(resource, to_refresh, fetch_missing, policy_for)
        if to_fetch:
            answers.update(await self._fetch_or_fall_back(resource, to_fetch, fallbacks, fetch_missing, policy_for))
        return answers

    async def _fetch_or_fall_back(
        self,
        resource: Resource,
        to_fetch: dict[str, K],
        fallbacks: dict[str, Entry],
        fetch_missing: FetchMissing[K],
        policy_for: PolicyFor,
    ) -> dict[str, _Answer]:
        try:
            fetched = await self._fetch_and_store(to_fetch, fetch_missing, policy_for)
        except Exception as exc:
            now = self._clock()
            answers: dict[str, _Answer] = {}
            for backend_key in to_fetch:
                fallback = fallbacks.get(backend_key)
                if fallback is not None and fallback.freshness(now) is not None:
                    answers[backend_key] = _Answer(fallback.value, stale=True, fresh_until=fallback.fresh_until)
                else:
                    answers[backend_key] = _Answer(NOT_FOUND, error=exc)
            served = sum(answer.error is None for answer in answers.values())
            if served:
                logger.warning("upstream fetch of %s failed; serving %d stale entries", resource, served)
                self._observer.stale(resource.name, served)
            return answers
        return {backend_key: _Answer(value) for backend_key, value in fetched.items()}

    def _revalidate_in_background(
        self, resource: Resource, stale: dict[str, K], fetch_missing: FetchMissing[K], policy_for: PolicyFor
    ) -> None:
        pending = {backend_key: key for backend_key, key in stale.items() if not self._refreshes.in_flight(backend_key)}
        if not pending:
            return

        async def refresh(owned: list[str]) -> dict[str, Value]:
            wanted = {backend_key: pending[backend_key] for backend_key in owned}
            return await self._fetch_and_store(wanted, fetch_missing, policy_for)

        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(
            self._refreshes.do_many(pending, refresh), name=f"cache-revalidate-{resource.name}"
        )
        self._background.add(task)
        task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Task[object]) -> None:
        self._background.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            # The stale entries stay and keep being served until their stale_until: that *is*
            # stale-if-error for requests that never waited for the upstream.
            logger.warning("background revalidation failed: %r", exc)

    async def _fetch_and_store(
        self, wanted: dict[str, K], fetch_missing: FetchMissing[K], policy_for: PolicyFor
    ) -> dict[str, Value]:
        result = await fetch_missing(list(wanted.values()))
        values: dict[str, Value] = {}
        for backend_key, key in wanted.items():
            value = result.get(key)
            if value is None or value is NOT_FOUND:
                values[backend_key] = NOT_FOUND
            elif isinstance(value, bytes):
                values[backend_key] = value
            else:  # raised before anything is stored: a batch with one bad value stores nothing
                raise TypeError(f"fetch_missing returned {type(value).__name__} for {key!r}; expected bytes")
        await self._store(
            [(backend_key, value, self._policy(policy_for, value)) for backend_key, value in values.items()]
        )
        return values

    def _policy(self, policy_for: PolicyFor, value: Value) -> CachePolicy:
        if value is NOT_FOUND:
            return self._not_found_policy
        return policy_for if isinstance(policy_for, CachePolicy) else policy_for(value)

    # -- backend access: best effort ----------------------------------------------------------

    async def _read(self, backend_keys: list[str]) -> dict[str, Entry]:
        if not backend_keys:
            return {}
        try:
            raws = await self._backend.get_many(backend_keys)
        except Exception:
            self._backend_failed("get")
            return {}
        entries: dict[str, Entry] = {}
        for backend_key, raw in zip(backend_keys, raws, strict=True):
            if raw is None:
                continue
            try:
                entries[backend_key] = decode(raw)
            except CorruptEntry as exc:
                logger.warning("ignoring a corrupt cache entry %s: %s", backend_key, exc)
        return entries

    async def _store(self, items: list[tuple[str, Value, CachePolicy]]) -> None:
        if not items:
            return
        now = self._clock()
        # Encoding first (it raises TypeError for a value that is not bytes): a bug in the caller
        # surfaces as such and the backend only ever sees finished envelopes.
        encoded = [
            (key, encode(Entry(value, now + policy.fresh_s, now + policy.backend_ttl_s)), policy.backend_ttl_s)
            for key, value, policy in items
        ]
        try:
            await self._backend.set_many(encoded)
        except Exception:
            self._backend_failed("set")

    def _backend_failed(self, operation: str) -> None:
        logger.warning("cache backend %s failed; carrying on without the cache", operation, exc_info=True)
        self._observer.backend_error(operation)

    def _count(self, resource: Resource, *, hits: int, stale: int, misses: int) -> None:
        if hits:
            self._observer.hit(resource.name, hits)
        if stale:
            self._observer.stale(resource.name, stale)
        if misses:
            self._observer.miss(resource.name, misses)

    def _evicted(self, backend_key: str) -> None:
        self._observer.evicted(self._keys.resource_of(backend_key) or "other")

    # -- lifecycle ----------------------------------------------------------------------------

    async def drain(self) -> None:
        """Wait for the background revalidations in flight (tests, graceful shutdown)."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def close(self) -> None:
        """Cancel background revalidations and loads in flight, then close the backend."""
        for task in self._background:
            task.cancel()
        self._loads.cancel_all()
        self._refreshes.cancel_all()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self._backend.close()
