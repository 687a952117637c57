"""The cache contract: what every backend must do, as seen through :class:`EntityCache`.

One suite, run against each backend by subclassing :class:`CacheContract` and providing three
fixtures: ``backend`` (a fresh :class:`CacheBackend`), ``peer_backend`` (another handle on the
*same* store, as a second gateway process would have) and ``raw_get`` (reads a key's stored bytes
without going through the code under test). Freshness runs on a manual clock; backend expiry uses
real, short TTLs. Each test has its own key namespace, so a shared Redis needs no flushing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence

import pytest

from customs_gateway.cache import (
    NOT_FOUND,
    CacheBackend,
    CacheCounters,
    CachePolicy,
    EntityCache,
    EvictionListener,
    KeyBuilder,
    ListQuery,
    NotFound,
    Resource,
)
from customs_gateway.cache.envelope import HEADER, MAGIC, decode
from customs_gateway.resilience import ManualClock

__all__ = ["CacheContract", "RawGet", "SpyBackend", "Upstream"]

RawGet = Callable[[str], Awaitable[bytes | None]]

MANIFEST = Resource("GACC", "manifest")
INSPECTION = Resource("GACC", "inspection")
RATE = Resource("KGD", "rate")
POLICY = CachePolicy(fresh_s=60, stale_s=600)
FINAL = CachePolicy(fresh_s=86_400, stale_s=600)
NOT_FOUND_POLICY = CachePolicy(fresh_s=30)
T0 = 1_750_000_000.0  # a wall-clock instant (entries carry epoch milliseconds)


class UpstreamDown(Exception):
    pass


class SpyBackend:
    """Passes every call through and records the batch calls, to count round trips."""

    def __init__(self, inner: CacheBackend) -> None:
        self.inner = inner
        self.gets: list[list[str]] = []
        self.sets: list[list[tuple[str, bytes, float]]] = []

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        self.gets.append(list(keys))
        return await self.inner.get_many(keys)

    async def set_many(self, items: Sequence[tuple[str, bytes, float]]) -> None:
        self.sets.append(list(items))
        await self.inner.set_many(items)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    def add_eviction_listener(self, listener: EvictionListener) -> None:
        self.inner.add_eviction_listener(listener)

    async def close(self) -> None:
        await self.inner.close()


class Upstream:
    """A fake authority: records each fetch, can be held at a gate, can fail."""

    def __init__(self, data: Mapping[object, bytes] | None = None, error: Exception | None = None) -> None:
        self.data = dict(data or {})
        self.error = error
        self.gate: asyncio.Event | None = None
        self.calls: list[list[object]] = []
        self._called = asyncio.Event()

    async def fetch(self, keys: list[object]) -> dict[object, bytes | NotFound | None]:
        self.calls.append(list(keys))
        self._called.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return {key: self.data[key] for key in keys if key in self.data}

    async def started(self, n: int = 1) -> None:
        while len(self.calls) < n:
            self._called.clear()
            await self._called.wait()


class CacheContract:
    # -- fixtures the backends provide -------------------------------------------------------

    @pytest.fixture
    def backend(self) -> CacheBackend:
        raise NotImplementedError("a backend's test class provides this fixture")

    @pytest.fixture
    def peer_backend(self) -> CacheBackend:
        raise NotImplementedError("a backend's test class provides this fixture")

    @pytest.fixture
    def raw_get(self) -> RawGet:
        raise NotImplementedError("a backend's test class provides this fixture")

    # -- shared fixtures ---------------------------------------------------------------------

    @pytest.fixture
    def clock(self) -> ManualClock:
        return ManualClock(T0)

    @pytest.fixture
    def counters(self) -> CacheCounters:
        return CacheCounters()

    @pytest.fixture
    def keys(self) -> KeyBuilder:
        return KeyBuilder(f"t{uuid.uuid4().hex[:12]}", 1)

    @pytest.fixture
    def spy(self, backend: CacheBackend) -> SpyBackend:
        return SpyBackend(backend)

    @pytest.fixture
    async def cache(
        self, spy: SpyBackend, keys: KeyBuilder, counters: CacheCounters, clock: ManualClock
    ) -> AsyncIterator[EntityCache]:
        cache = EntityCache(spy, keys=keys, not_found_policy=NOT_FOUND_POLICY, observer=counters, clock=clock)
        yield cache
        await cache.drain()

    # -- get / set ---------------------------------------------------------------------------

    async def test_set_many_then_get_many_round_trips_bytes_and_not_found(self, cache: EntityCache) -> None:
        await cache.set_many(MANIFEST, {"m1": b'{"id":"m1"}', "m2": NOT_FOUND}, POLICY)

        hits = await cache.get_many(MANIFEST, ["m1", "m2", "m3"])

        assert set(hits) == {"m1", "m2"}
        assert hits["m1"].value == b'{"id":"m1"}' and hits["m1"].is_fresh and hits["m1"].found
        assert hits["m2"].value is NOT_FOUND and not hits["m2"].found
        assert hits["m1"].fresh_until == T0 + 60 and hits["m1"].stale_until == T0 + 660

    async def test_get_many_is_one_backend_round_trip(self, cache: EntityCache, spy: SpyBackend) -> None:
        await cache.set_many(MANIFEST, {f"m{i}": b"x" for i in range(50)}, POLICY)
        spy.gets.clear()

        hits = await cache.get_many(MANIFEST, [f"m{i}" for i in range(60)])

        assert len(hits) == 50
        assert len(spy.gets) == 1 and len(spy.gets[0]) == 60
        assert len(spy.sets) == 1, "set_many of one policy is one backend write"

    async def test_load_many_reads_once_and_fetches_only_the_misses(self, cache: EntityCache, spy: SpyBackend) -> None:
        await cache.set_many(MANIFEST, {"m1": b"one", "m2": b"two"}, POLICY)
        spy.gets.clear()
        upstream = Upstream({"m3": b"three"})

        result = await cache.load_many(MANIFEST, ["m1", "m2", "m3", "m4"], upstream.fetch, POLICY)

        assert result.values == {"m1": b"one", "m2": b"two", "m3": b"three", "m4": NOT_FOUND}
        assert not result.stale_served
        assert upstream.calls == [["m3", "m4"]]
        assert len(spy.gets) == 1
        again = await cache.load_many(MANIFEST, ["m3", "m4"], upstream.fetch, POLICY)
        assert again.values == {"m3": b"three", "m4": NOT_FOUND}
        assert len(upstream.calls) == 1, "the fetched value and the not-found were both cached"

    # -- freshness and expiry ----------------------------------------------------------------

    async def test_an_entry_is_fresh_then_stale_then_gone(self, cache: EntityCache, clock: ManualClock) -> None:
        await cache.set(MANIFEST, "m1", b"v", POLICY)

        clock.advance(59.9)
        assert (hit := await cache.get(MANIFEST, "m1")) is not None and hit.is_fresh
        clock.advance(0.2)
        assert (hit := await cache.get(MANIFEST, "m1")) is not None and not hit.is_fresh and hit.value == b"v"
        clock.advance(600)
        assert await cache.get(MANIFEST, "m1") is None, "past stale_until it is not served even if still stored"

    async def test_the_backend_expires_entries_after_fresh_plus_stale(
        self, spy: SpyBackend, keys: KeyBuilder, raw_get: RawGet
    ) -> None:
        cache = EntityCache(spy, keys=keys, not_found_policy=NOT_FOUND_POLICY)  # the real clock
        await cache.set_many(MANIFEST, {"short": b"v"}, CachePolicy(fresh_s=0.05, stale_s=0.05))
        await cache.set_many(MANIFEST, {"long": b"v"}, POLICY)
        key = keys.build(MANIFEST, "short")
        assert await raw_get(key) is not None

        await asyncio.sleep(0.25)

        assert await raw_get(key) is None
        assert await cache.get(MANIFEST, "short") is None
        assert await raw_get(keys.build(MANIFEST, "long")) is not None

    async def test_not_found_is_stored_briefly_with_the_not_found_policy(
        self, cache: EntityCache, keys: KeyBuilder, raw_get: RawGet, clock: ManualClock
    ) -> None:
        upstream = Upstream({})

        result = await cache.load_many(MANIFEST, ["ghost"], upstream.fetch, FINAL)

        assert result.values == {"ghost": NOT_FOUND}
        raw = await raw_get(keys.build(MANIFEST, "ghost"))
        assert raw is not None and len(raw) == HEADER.size
        entry = decode(raw)
        assert entry.value is NOT_FOUND
        assert entry.fresh_until == entry.stale_until == T0 + 30, "not-found: its own TTL, no stale grace"
        clock.advance(31)
        await cache.load_many(MANIFEST, ["ghost"], upstream.fetch, FINAL)
        assert len(upstream.calls) == 2

    async def test_policy_for_chooses_each_values_lifetime(
        self, cache: EntityCache, keys: KeyBuilder, raw_get: RawGet
    ) -> None:
        upstream = Upstream({"done": b'{"final":true}', "moving": b'{"final":false}'})

        def policy_for(value: bytes) -> CachePolicy:
            return FINAL if b'"final":true' in value else POLICY

        await cache.load_many(MANIFEST, ["done", "moving"], upstream.fetch, policy_for)

        done, moving = [await raw_get(keys.build(MANIFEST, key)) for key in ("done", "moving")]
        assert done is not None and decode(done).fresh_until == T0 + 86_400
        assert moving is not None and decode(moving).fresh_until == T0 + 60

    # -- stale-while-revalidate, stale-if-error ----------------------------------------------

    async def test_stale_while_revalidate_serves_stale_and_refreshes_once_in_the_background(
        self, cache: EntityCache, clock: ManualClock, counters: CacheCounters
    ) -> None:
        await cache.set(MANIFEST, "m1", b"old", POLICY)
        clock.advance(61)
        upstream = Upstream({"m1": b"new"})
        upstream.gate = asyncio.Event()

        results = await asyncio.gather(*(cache.load_many(MANIFEST, ["m1"], upstream.fetch, POLICY) for _ in range(5)))
        await upstream.started()
        later = await cache.load_many(MANIFEST, ["m1"], upstream.fetch, POLICY)

        for result in [*results, later]:
            assert result.values == {"m1": b"old"} and result.stale == {"m1"}
        assert len(upstream.calls) == 1, "one refresh in flight per key"
        upstream.gate.set()
        await cache.drain()
        fresh = await cache.load_many(MANIFEST, ["m1"], upstream.fetch, POLICY)
        assert fresh.values == {"m1": b"new"} and not fresh.stale_served
        assert len(upstream.calls) == 1
        assert counters.stale_serves["manifest"] == 2 and counters.hits["manifest"] == 1

    async def test_a_failed_background_refresh_keeps_the_stale_entry(
        self, cache: EntityCache, clock: ManualClock, keys: KeyBuilder, raw_get: RawGet
    ) -> None:
        await cache.set(MANIFEST, "m1", b"old", POLICY)
        before = await raw_get(keys.build(MANIFEST, "m1"))
        clock.advance(61)
        upstream = Upstream(error=UpstreamDown("KGD is down"))

        first = await cache.load_many(MANIFEST, ["m1"], upstream.fetch, POLICY)
        await cache.drain()
        second = await cache.load_many(MANIFEST, ["m1"], upstream.fetch, POLICY)
        await cache.drain()

        assert first.values == second.values == {"m1": b"old"} and second.stale_served
        assert await raw_get(keys.build(MANIFEST, "m1")) == before, "nothing was written over it"
        assert len(upstream.calls) == 2

    async def test_stale_if_error_serves_stale_within_the_grace_and_raises_after(
        self, cache: EntityCache, clock: ManualClock, counters: CacheCounters
    ) -> None:
        await cache.set(MANIFEST, "m1", b"old", POLICY)
        clock.advance(61)
        upstream = Upstream(error=UpstreamDown("GACC is down"))

        result = await cache.load_many(MANIFEST, ["m1"], upstream.fetch, POLICY, stale_while_revalidate=False)

        assert result.values == {"m1": b"old"} and result.stale == {"m1"} and result.stale_served
        assert counters.stale_serves["manifest"] == 1
        clock.advance(600)
        with pytest.raises(UpstreamDown):
            await cache.load_many(MANIFEST, ["m1"], upstream.fetch, POLICY, stale_while_revalidate=False)

    async def test_stale_if_error_raises_when_some_key_has_nothing_to_fall_back_on(
        self, cache: EntityCache, clock: ManualClock, keys: KeyBuilder, raw_get: RawGet
    ) -> None:
        await cache.set(MANIFEST, "m1", b"old", POLICY)
        clock.advance(61)
        upstream = Upstream(error=UpstreamDown())

        with pytest.raises(UpstreamDown):
            await cache.load_many(MANIFEST, ["m1", "m2"], upstream.fetch, POLICY, stale_while_revalidate=False)
        assert await raw_get(keys.build(MANIFEST, "m2")) is None, "no exception, no placeholder cached"

    async def test_a_refetch_that_succeeds_replaces_the_stale_entry(
        self, cache: EntityCache, clock: ManualClock
    ) -> None:
        await cache.set(MANIFEST, "m1", b"old", POLICY)
        clock.advance(61)
        upstream = Upstream({"m1": b"new"})

        result = await cache.load_many(MANIFEST, ["m1"], upstream.fetch, POLICY, stale_while_revalidate=False)

        assert result.values == {"m1": b"new"} and not result.stale_served
        assert (hit := await cache.get(MANIFEST, "m1")) is not None and hit.is_fresh and hit.value == b"new"

    # -- single flight -----------------------------------------------------------------------

    async def test_100_concurrent_loads_make_one_fetch(self, cache: EntityCache, spy: SpyBackend) -> None:
        upstream = Upstream({"m1": b"v"})
        upstream.gate = asyncio.Event()

        loads = [asyncio.create_task(cache.load_many(MANIFEST, ["m1"], upstream.fetch, POLICY)) for _ in range(100)]
        await upstream.started()
        upstream.gate.set()
        results = await asyncio.gather(*loads)

        assert all(result.values == {"m1": b"v"} for result in results)
        assert upstream.calls == [["m1"]]
        assert len(spy.gets) == 1, "followers joined the leader's read too"

    async def test_overlapping_batches_fetch_each_key_once(self, cache: EntityCache) -> None:
        upstream = Upstream({"a": b"A", "b": b"B", "c": b"C"})
        upstream.gate = asyncio.Event()

        first = asyncio.create_task(cache.load_many(MANIFEST, ["a", "b"], upstream.fetch, POLICY))
        await upstream.started()
        second = asyncio.create_task(cache.load_many(MANIFEST, ["b", "c"], upstream.fetch, POLICY))
        await upstream.started(2)
        upstream.gate.set()

        assert (await first).values == {"a": b"A", "b": b"B"}
        assert (await second).values == {"b": b"B", "c": b"C"}
        assert sorted(map(sorted, upstream.calls)) == [["a", "b"], ["c"]]

    async def test_a_cancelled_waiter_does_not_cancel_the_shared_load(self, cache: EntityCache) -> None:
        upstream = Upstream({"m1": b"v"})
        upstream.gate = asyncio.Event()
        loads = [asyncio.create_task(cache.load_many(MANIFEST, ["m1"], upstream.fetch, POLICY)) for _ in range(3)]
        await upstream.started()

        loads[0].cancel()  # the one that started the load
        upstream.gate.set()
        results = await asyncio.gather(*loads[1:])

        assert loads[0].cancelled()
        assert all(result.values == {"m1": b"v"} for result in results)
        assert (hit := await cache.get(MANIFEST, "m1")) is not None and hit.value == b"v"
        assert len(upstream.calls) == 1

    async def test_a_failure_reaches_every_waiter_and_is_not_cached(self, cache: EntityCache) -> None:
        upstream = Upstream({"m1": b"v"}, error=UpstreamDown("boom"))
        upstream.gate = asyncio.Event()
        loads = [asyncio.create_task(cache.load_many(MANIFEST, ["m1"], upstream.fetch, POLICY)) for _ in range(10)]
        await upstream.started()
        upstream.gate.set()

        outcomes = await asyncio.gather(*loads, return_exceptions=True)

        assert all(isinstance(outcome, UpstreamDown) for outcome in outcomes)
        assert len(upstream.calls) == 1
        upstream.error = None
        assert (await cache.load_many(MANIFEST, ["m1"], upstream.fetch, POLICY)).values == {"m1": b"v"}
        assert len(upstream.calls) == 2

    # -- keys --------------------------------------------------------------------------------

    async def test_keys_cannot_collide_or_inject(self, cache: EntityCache, keys: KeyBuilder, raw_get: RawGet) -> None:
        query = ListQuery.of({"status": "released", "page": 2})
        ids: list[str] = [
            "a:b", "a/b", "a b", "a%3Ab", "a%253Ab", "ключ", "关税", "i=a", "", "a\x00b", "a\nb",
            "x:GACC:manifest:i=1", "1", "🙂" * 100, f"p={query.digest}",
        ]  # fmt: skip
        values = {key: f"value-{n}".encode() for n, key in enumerate(ids)}

        await cache.set_many(MANIFEST, values, POLICY)
        await cache.set(MANIFEST, query, b"the list page", POLICY)
        await cache.set(INSPECTION, "a:b", b"another resource", POLICY)
        await cache.set(Resource("KGD", "manifest"), "a:b", b"another authority", POLICY)

        hits = await cache.get_many(MANIFEST, [*ids, query])
        assert {key: hit.value for key, hit in hits.items()} == {**values, query: b"the list page"}
        assert (await cache.get(INSPECTION, "a:b")).value == b"another resource"  # type: ignore[union-attr]
        assert (await cache.get(Resource("KGD", "manifest"), "a:b")).value == b"another authority"  # type: ignore[union-attr]
        backend_keys = {keys.build(MANIFEST, key) for key in [*ids, query]}
        assert len(backend_keys) == len(ids) + 1
        for backend_key in backend_keys:
            assert backend_key.count(":") == 4 and " " not in backend_key and backend_key.isascii()
            assert await raw_get(backend_key) is not None

    async def test_equal_list_parameters_share_an_entry(self, cache: EntityCache) -> None:
        await cache.set(RATE, ListQuery.of({"from": "2025-03-01", "to": "2025-03-07"}), b"page", POLICY)

        hit = await cache.get(RATE, ListQuery.of({"to": "2025-03-07", "from": "2025-03-01"}))

        assert hit is not None and hit.value == b"page"
        assert await cache.get(RATE, ListQuery.of({"from": "2025-03-01", "to": "2025-03-08"})) is None

    # -- what is stored ----------------------------------------------------------------------

    async def test_stored_bytes_are_the_header_and_the_payload_verbatim(
        self, cache: EntityCache, keys: KeyBuilder, raw_get: RawGet
    ) -> None:
        payload = '{"id":"m1","plate":"新F12345"}'.encode()

        await cache.set(MANIFEST, "m1", payload, POLICY)
        await cache.set(MANIFEST, "gone", NOT_FOUND, POLICY)

        raw = await raw_get(keys.build(MANIFEST, "m1"))
        fresh_ms, stale_ms = round(T0 * 1000) + 60_000, round(T0 * 1000) + 660_000
        assert raw == HEADER.pack(MAGIC, 1, 0, fresh_ms, stale_ms, len(payload)) + payload
        assert not raw.startswith(b"\x80"), "not a pickle"
        assert await raw_get(keys.build(MANIFEST, "gone")) == HEADER.pack(MAGIC, 1, 1, fresh_ms, stale_ms, 0)

    async def test_values_that_are_not_bytes_are_refused(self, cache: EntityCache, keys: KeyBuilder) -> None:
        with pytest.raises(TypeError):
            await cache.set(MANIFEST, "m1", {"id": "m1"}, POLICY)  # type: ignore[arg-type]

        async def sloppy(keys: list[str]) -> dict[str, bytes]:
            return {"m1": b"ok", "m2": '{"id": "m2"}'}  # type: ignore[dict-item]

        with pytest.raises(TypeError):
            await cache.load_many(MANIFEST, ["m1", "m2"], sloppy, POLICY)
        assert await cache.get(MANIFEST, "m1") is None, "a batch with a bad value stores nothing"

    async def test_a_corrupt_entry_is_a_miss_and_gets_replaced(
        self, cache: EntityCache, backend: CacheBackend, keys: KeyBuilder, counters: CacheCounters
    ) -> None:
        key = keys.build(MANIFEST, "m1")
        await backend.set_many([(key, b"\x80\x04garbage", 60.0)])
        await cache.set_many(MANIFEST, {"m2": b"whole"}, POLICY)
        truncated = (await backend.get_many([keys.build(MANIFEST, "m2")]))[0]
        assert truncated is not None
        await backend.set_many([(keys.build(MANIFEST, "m2"), truncated[:-1], 60.0)])
        upstream = Upstream({"m1": b"good", "m2": b"whole again"})

        assert await cache.get_many(MANIFEST, ["m1", "m2"]) == {}
        result = await cache.load_many(MANIFEST, ["m1", "m2"], upstream.fetch, POLICY)

        assert result.values == {"m1": b"good", "m2": b"whole again"}
        assert (await cache.get(MANIFEST, "m1")).value == b"good"  # type: ignore[union-attr]
        assert counters.misses["manifest"] == 4

    # -- replicas ----------------------------------------------------------------------------

    async def test_two_caches_on_one_store_serve_each_others_entries(
        self, cache: EntityCache, peer_backend: CacheBackend, keys: KeyBuilder, clock: ManualClock
    ) -> None:
        peer = EntityCache(peer_backend, keys=keys, not_found_policy=NOT_FOUND_POLICY, clock=clock)
        upstream = Upstream({"m1": b"from A"})

        await cache.load_many(MANIFEST, ["m1"], upstream.fetch, POLICY)
        seen_by_b = await peer.load_many(MANIFEST, ["m1"], upstream.fetch, POLICY)
        await peer.set(MANIFEST, "m2", b"from B", POLICY)

        assert seen_by_b.values == {"m1": b"from A"}
        assert len(upstream.calls) == 1
        assert (await cache.get(MANIFEST, "m2")).value == b"from B"  # type: ignore[union-attr]

    # -- counters ----------------------------------------------------------------------------

    async def test_counts_hits_misses_and_stale_serves_by_resource(
        self, cache: EntityCache, clock: ManualClock, counters: CacheCounters
    ) -> None:
        upstream = Upstream({"m1": b"v", "r1": b"rate"})
        await cache.load_many(MANIFEST, ["m1", "m2"], upstream.fetch, POLICY)
        await cache.load_many(MANIFEST, ["m1", "m2"], upstream.fetch, POLICY)
        await cache.load_many(RATE, ["r1"], upstream.fetch, POLICY)
        clock.advance(45)  # m1 (60 s) still fresh; m2 (not found, 30 s) gone
        await cache.load_many(MANIFEST, ["m1", "m2"], upstream.fetch, POLICY)
        clock.advance(20)  # m1 stale
        await cache.load_many(MANIFEST, ["m1"], upstream.fetch, POLICY)

        assert counters.hits == {"manifest": 3}
        assert counters.misses == {"manifest": 3, "rate": 1}
        assert counters.stale_serves == {"manifest": 1}
        assert not counters.backend_errors

