"""An in-process first level in front of the shared cache, for report partials only.

A warm 90-day report over every crossing reads ~900 partials; through the shared
:class:`~customs_gateway.cache.EntityCache` that is one multi-get of 900 keys (~50 µs a key:
key building, envelope and freshness checks), which alone would eat half of a 100 ms budget. The
memo keeps each partial's bytes for as long as the shared cache says it is fresh, bounded in
bytes (least recently used out first), so a warm report is a few dictionary lookups per chunk.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

__all__ = ["PartialMemo"]


class PartialMemo:
    def __init__(self, max_bytes: int, clock: Callable[[], float] = time.time) -> None:
        self._max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        now = self._clock()
        found: dict[str, bytes] = {}
        for key in keys:
            entry = self._entries.get(key)
            if entry is None:
                continue
            if entry[0] <= now:
                self._drop(key)
                continue
            self._entries.move_to_end(key)
            found[key] = entry[1]
        return found

    def put(self, key: str, value: bytes, fresh_until: float) -> None:
        if len(value) > self._max_bytes or fresh_until <= self._clock():
            return
        self._drop(key)
        self._entries[key] = (fresh_until, value)
        self._bytes += len(value)
        while self._bytes > self._max_bytes:
            oldest = next(iter(self._entries))
            self._drop(oldest)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry[1])

    @property
    def size_bytes(self) -> int:
        return self._bytes
