"""The bounded memory backend: the entry and byte bounds, LRU order, expiry, eviction reports."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from customs_gateway.cache import (
    BoundedMemoryCache,
    CacheCounters,
    CachePolicy,
    EntityCache,
    KeyBuilder,
    MemoryBackend,
    Resource,
)
from customs_gateway.cache.memory import ENTRY_OVERHEAD
from customs_gateway.resilience import ManualClock

MANIFEST = Resource("GACC", "manifest")
RATE = Resource("KGD", "rate")
KEYS = st.sampled_from([f"k{n}" for n in range(30)])


def bounded(max_entries: int = 1000, max_bytes: int = 10**9, clock: ManualClock | None = None) -> BoundedMemoryCache:
    return BoundedMemoryCache(max_entries=max_entries, max_bytes=max_bytes, clock=clock or ManualClock())


async def test_entry_bound_evicts_the_least_recently_used() -> None:
    cache = bounded(max_entries=3)
    for key in "abc":
        await cache.set(key, key.encode())
    assert await cache.get("a") == b"a"  # a is now the most recently used

    await cache.set("d", b"d")

    assert cache.keys_lru_first() == ["c", "a", "d"]
    assert await cache.multi_get(["a", "b", "c", "d"]) == [b"a", None, b"c", b"d"]


async def test_byte_bound_counts_keys_values_and_overhead() -> None:
    entry = BoundedMemoryCache.entry_size("k0", b"x" * 100)
    assert entry == ENTRY_OVERHEAD + 2 + 100
    cache = bounded(max_bytes=3 * entry)
    for n in range(3):
        await cache.set(f"k{n}", b"x" * 100)
    assert len(cache) == 3 and cache.approx_bytes == 3 * entry

    await cache.set("k3", b"x" * 150)

    assert cache.keys_lru_first() == ["k2", "k3"], "two of the oldest made room for a bigger one"
    assert cache.approx_bytes <= cache.max_bytes


async def test_overwriting_a_key_replaces_its_size() -> None:
    cache = bounded()
    await cache.set("k", b"x" * 1000)
    await cache.set("k", b"y")

    assert len(cache) == 1 and cache.approx_bytes == BoundedMemoryCache.entry_size("k", b"y")


async def test_a_value_over_the_byte_bound_is_not_stored_and_drops_the_old_one() -> None:
    cache = bounded(max_bytes=2000)
    await cache.set("k", b"old")
    await cache.set("other", b"kept")

    await cache.set("k", b"x" * 5000)

    assert await cache.get("k") is None, "the old value must not outlive a write that replaced it"
    assert await cache.get("other") == b"kept"


async def test_expired_entries_are_not_returned() -> None:
    clock = ManualClock()
    cache = bounded(clock=clock)
    await cache.multi_set([("a", b"a"), ("b", b"b")], ttl=10.0)
    await cache.set("forever", b"f")

    clock.advance(9.9)
    assert await cache.multi_get(["a", "b", "forever"]) == [b"a", b"b", b"f"]
    clock.advance(0.1)
    assert await cache.multi_get(["a", "b", "forever"]) == [None, None, b"f"]
    assert not await cache.exists("a") and len(cache) == 1


async def test_expired_entries_go_before_live_ones_when_the_bound_is_reached() -> None:
    clock = ManualClock()
    cache = bounded(max_entries=3, clock=clock)
    await cache.set("live-old", b"1")
    await cache.set("dies", b"2", ttl=1.0)
    await cache.set("live", b"3")
    clock.advance(2)

    await cache.set("new", b"4")

    assert cache.keys_lru_first() == ["live-old", "live", "new"]


async def test_expire_and_delete_follow_aiocache_semantics() -> None:
    clock = ManualClock()
    cache = bounded(clock=clock)
    await cache.set("k", b"v")
    assert await cache.expire("k", 5) is True
    assert await cache.expire("missing", 5) is False
    clock.advance(6)
    assert await cache.get("k") is None
    await cache.set("k", b"v")
    assert await cache.delete("k") == 1 and await cache.delete("k") == 0
    assert cache.approx_bytes == 0


async def test_only_bytes_are_stored() -> None:
    cache = bounded()
    with pytest.raises(TypeError):
        await cache.set("k", "a str")
    with pytest.raises(TypeError):
        await cache.set("k", {"a": 1})
    with pytest.raises(TypeError):
        await cache.increment("n")
    assert len(cache) == 0


async def test_evictions_are_counted_by_resource() -> None:
    counters = CacheCounters()
    backend = MemoryBackend(max_entries=3, max_bytes=10**9)
    cache = EntityCache(backend, keys=KeyBuilder("t", 1), not_found_policy=CachePolicy(30), observer=counters)
    policy = CachePolicy(fresh_s=60)

    await cache.set_many(MANIFEST, {"m1": b"1", "m2": b"2"}, policy)
    await cache.set_many(RATE, {"r1": b"1", "r2": b"2", "r3": b"3"}, policy)

    assert counters.evictions == {"manifest": 2}
    assert await cache.get_many(RATE, ["r1", "r2", "r3"]) != {}
    await cache.close()


class BoundedCacheMachine(RuleBasedStateMachine):
    """Random writes, reads, deletes and clock moves: the bounds always hold, a read never returns
    another key's value or an overwritten one, and the last write (if it fits) is always readable."""

    def __init__(self) -> None:
        super().__init__()
        # A private loop, not the test session's: this runs inside a synchronous test.
        self.loop = asyncio.new_event_loop()
        self.clock = ManualClock()
        self.written: dict[str, bytes] = {}
        self.last: str | None = None
        self.evicted: list[str] = []

    @initialize(max_entries=st.integers(1, 20), max_bytes=st.integers(ENTRY_OVERHEAD, 8 * ENTRY_OVERHEAD))
    def create(self, max_entries: int, max_bytes: int) -> None:
        self.cache = BoundedMemoryCache(
            max_entries=max_entries, max_bytes=max_bytes, clock=self.clock, on_evict=self.evicted.append
        )

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coroutine)

    @rule(key=KEYS, size=st.integers(0, 600), ttl=st.sampled_from([None, 1.0, 5.0]))
    def write(self, key: str, size: int, ttl: float | None) -> None:
        value = (key + "=" + "x" * size).encode()
        self.run(self.cache.set(key, value, ttl=ttl))
        self.written[key] = value
        self.last = key if BoundedMemoryCache.entry_size(key, value) <= self.cache.max_bytes else None

    @rule(keys=st.lists(KEYS, max_size=5))
    def read(self, keys: list[str]) -> None:
        for key, value in zip(keys, self.run(self.cache.multi_get(keys)), strict=True):
            assert value is None or value == self.written[key]

    @precondition(lambda self: self.last is not None)
    @rule()
    def last_write_is_readable(self) -> None:
        assert self.last is not None
        assert self.run(self.cache.get(self.last)) == self.written[self.last]

    @rule(key=KEYS)
    def delete(self, key: str) -> None:
        self.run(self.cache.delete(key))
        if key == self.last:
            self.last = None

    @rule(seconds=st.sampled_from([0.5, 2.0, 10.0]))
    def time_passes(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.last = None  # it may have expired

    @invariant()
    def within_bounds(self) -> None:
        if hasattr(self, "cache"):
            assert len(self.cache) <= self.cache.max_entries
            assert self.cache.approx_bytes <= self.cache.max_bytes
            # Whatever is stored (expired or not) is the last value written under its key, and
            # the byte count is exactly the sum of the stored entries' sizes.
            stored = self.cache.keys_lru_first()
            assert self.cache.approx_bytes == sum(BoundedMemoryCache.entry_size(k, self.written[k]) for k in stored)

    def teardown(self) -> None:
        self.loop.close()


BoundedCacheMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
test_bounded_cache_state_machine = BoundedCacheMachine.TestCase
