"""The in-process backend: aiocache's memory cache, bounded by entries and bytes, LRU eviction.

aiocache's ``SimpleMemoryCache`` has no size limit (one hot list query per distinct filter would
grow the process until it dies) and expires entries with one ``loop.call_later`` timer per key
(100 000 entries, 100 000 timer handles, bound to whichever event loop set them).
:class:`BoundedMemoryCache` keeps aiocache's API and replaces the storage:

* an ``OrderedDict`` in least-recently-used order: a read or a write moves the key to the end;
* expiry checked lazily on read (an expired entry is dropped, never returned), plus a sweep of all
  expired entries when the bound is reached, at most once per ``sweep_interval_s``, so dead entries
  are dropped before live ones are evicted;
* after each write, entries are evicted from the least recently used end until both
  ``len <= max_entries`` and ``approx_bytes <= max_bytes`` hold again.

Values must be bytes (see :class:`~customs_gateway.cache.backend.RawBytesSerializer`): immutable,
so a caller cannot change a cached value after the fact, and sized, so the byte bound means
something. An entry's size is its key and value lengths plus :data:`ENTRY_OVERHEAD`, the measured
CPython cost of the objects around them (str and bytes headers, the slot, the dict node).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final

from aiocache.backends.memory import SimpleMemoryBackend

from .backend import AiocacheBackend, EvictionListener, RawBytesSerializer

__all__ = ["ENTRY_OVERHEAD", "BoundedMemoryCache", "MemoryBackend"]

ENTRY_OVERHEAD: Final = 260
"""Bytes of Python objects per entry besides the key's and the value's characters (measured with
tracemalloc on CPython 3.11 by ``benchmarks/cache_memory.py``: bytes and str headers, the slot
object and its float, the dict and linked-list nodes of the OrderedDict)."""


class _Slot:
    __slots__ = ("expires_at", "size", "value")

    def __init__(self, value: bytes, expires_at: float | None, size: int) -> None:
        self.value = value
        self.expires_at = expires_at
        self.size = size


class BoundedMemoryCache(SimpleMemoryBackend):  # type: ignore[misc]  # aiocache is untyped
    """aiocache memory cache with LRU eviction by entry count and approximate bytes."""

    NAME = "bounded_memory"

    def __init__(
        self,
        *,
        max_entries: int,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
        on_evict: EvictionListener | None = None,
        sweep_interval_s: float = 1.0,
        **kwargs: Any,
    ) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("max_entries and max_bytes must be positive")
        kwargs.setdefault("timeout", None)  # pure dict operations: no asyncio.wait_for task per call
        super().__init__(serializer=RawBytesSerializer(), **kwargs)
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._on_evict = on_evict
        self._sweep_interval_s = sweep_interval_s
        self._last_sweep = float("-inf")
        self._store: OrderedDict[str, _Slot] = OrderedDict()
        self._bytes = 0

    # -- what the bound is measured on --------------------------------------------------------

    def __len__(self) -> int:
        return len(self._store)

    @property
    def approx_bytes(self) -> int:
        return self._bytes

    def keys_lru_first(self) -> list[str]:
        """Keys from least to most recently used (for tests and diagnostics)."""
        return list(self._store)

    def peek(self, key: str) -> bytes | None:
        """The stored bytes of a live entry, without touching the LRU order (tests, diagnostics)."""
        slot = self._store.get(key)
        if slot is None or (slot.expires_at is not None and slot.expires_at <= self._clock()):
            return None
        return slot.value

    @staticmethod
    def entry_size(key: str, value: bytes) -> int:
        return ENTRY_OVERHEAD + len(key) + len(value)

    def purge_expired(self) -> int:
        """Drop every expired entry; returns how many."""
        now = self._clock()
        self._last_sweep = now
        dead = [key for key, slot in self._store.items() if slot.expires_at is not None and slot.expires_at <= now]
        for key in dead:
            self._remove(key)
        return len(dead)

    # -- storage ------------------------------------------------------------------------------

    def _lookup(self, key: str, *, touch: bool = True) -> bytes | None:
        slot = self._store.get(key)
        if slot is None:
            return None
        if slot.expires_at is not None and slot.expires_at <= self._clock():
            self._remove(key)
            return None
        if touch:
            self._store.move_to_end(key)
        return slot.value

    def _put(self, key: str, value: object, ttl: float | None) -> None:
        if not isinstance(value, bytes):
            raise TypeError(f"this cache stores bytes only, not {type(value).__name__}")
        self._remove(key)  # also when the new value is too big: the old one must not survive it
        size = self.entry_size(key, value)
        if size > self.max_bytes:
            return
        expires_at = self._clock() + ttl if ttl else None
        self._store[key] = _Slot(value, expires_at, size)
        self._bytes += size
        self._shrink()

    def _remove(self, key: str) -> bool:
        slot = self._store.pop(key, None)
        if slot is None:
            return False
        self._bytes -= slot.size
        return True

    def _shrink(self) -> None:
        if len(self._store) <= self.max_entries and self._bytes <= self.max_bytes:
            return
        if self._clock() - self._last_sweep >= self._sweep_interval_s:
            self.purge_expired()
        while len(self._store) > self.max_entries or self._bytes > self.max_bytes:
            key, slot = self._store.popitem(last=False)
            self._bytes -= slot.size
            if self._on_evict is not None:
                self._on_evict(key)

    # -- aiocache's backend interface ---------------------------------------------------------

    async def _get(self, key: str, encoding: str | None = None, _conn: object = None) -> bytes | None:
        return self._lookup(key)

    async def _gets(self, key: str, encoding: str | None = None, _conn: object = None) -> bytes | None:
        return self._lookup(key)

    async def _multi_get(
        self, keys: list[str], encoding: str | None = None, _conn: object = None
    ) -> list[bytes | None]:
        return [self._lookup(key) for key in keys]

    async def _set(
        self, key: str, value: object, ttl: float | None = None, _cas_token: object = None, _conn: object = None
    ) -> bool:
        if _cas_token is not None and _cas_token != self._lookup(key, touch=False):
            return False
        self._put(key, value, ttl)
        return True

    async def _multi_set(self, pairs: list[tuple[str, object]], ttl: float | None = None, _conn: object = None) -> bool:
        for key, value in pairs:
            self._put(key, value, ttl)
        return True

    async def _add(self, key: str, value: object, ttl: float | None = None, _conn: object = None) -> bool:
        if self._lookup(key, touch=False) is not None:
            raise ValueError(f"Key {key} already exists, use .set to update the value")
        self._put(key, value, ttl)
        return True

    async def _exists(self, key: str, _conn: object = None) -> bool:
        return self._lookup(key, touch=False) is not None

    async def _increment(self, key: str, delta: int, _conn: object = None) -> int:
        raise TypeError("the bounded memory cache stores bytes only; it has no counters")

    async def _expire(self, key: str, ttl: float, _conn: object = None) -> bool:
        if self._lookup(key, touch=False) is None:
            return False
        self._store[key].expires_at = self._clock() + ttl if ttl else None
        return True

    async def _delete(self, key: str, _conn: object = None) -> int:
        return int(self._remove(key))

    async def _clear(self, namespace: str | None = None, _conn: object = None) -> bool:
        if namespace:
            for key in [key for key in self._store if key.startswith(namespace)]:
                self._remove(key)
        else:
            self._store.clear()
            self._bytes = 0
        return True

    async def _raw(self, command: str, *args: object, encoding: str | None = None, _conn: object = None) -> object:
        raise NotImplementedError("the bounded memory cache has no raw commands")

    async def _redlock_release(self, key: str, value: object) -> int:
        if self._lookup(key, touch=False) == value:
            return int(self._remove(key))
        return 0


class MemoryBackend(AiocacheBackend):
    """:class:`BoundedMemoryCache` as a :class:`~customs_gateway.cache.backend.CacheBackend`."""

    def __init__(
        self,
        *,
        max_entries: int,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
        sweep_interval_s: float = 1.0,
    ) -> None:
        self.store = BoundedMemoryCache(
            max_entries=max_entries,
            max_bytes=max_bytes,
            clock=clock,
            on_evict=self._evicted,
            sweep_interval_s=sweep_interval_s,
        )
        super().__init__(self.store)
