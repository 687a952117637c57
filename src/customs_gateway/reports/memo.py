"""An in-process first level in front of the shared cache: *decoded* report partials.

A warm 90-day report over every crossing folds ~900 partials; through the shared
:class:`~customs_gateway.cache.EntityCache` that is a multi-get of 900 keys (~50 µs a key: key
building, envelope and freshness checks) plus decoding each one, which alone would eat the
100 ms budget. The memo keeps each decoded partial for as long as the shared cache says it is
fresh, bounded by the encoded size of what it holds (least recently used out first; decoded
objects take a few times that), so a warm report is one dictionary lookup per chunk.

Values are shared between reports: whoever reads one must not change it (the folds only read).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

__all__ = ["PartialMemo"]

V = TypeVar("V")


class PartialMemo(Generic[V]):
    def __init__(self, max_bytes: int, clock: Callable[[], float] = time.time) -> None:
        self._max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, V, int]] = OrderedDict()
        self._bytes = 0

    def get_many(self, keys: Iterable[str]) -> dict[str, V]:
        return {key: value for key, (value, _) in self.get_many_until(keys).items()}

    def get_many_until(self, keys: Iterable[str]) -> dict[str, tuple[V, float]]:
        """The fresh values of ``keys``, each with the wall-clock second it stays fresh until."""
        now = self._clock()
        found: dict[str, tuple[V, float]] = {}
        for key in keys:
            entry = self._entries.get(key)
            if entry is None:
                continue
            if entry[0] <= now:
                self._drop(key)
                continue
            self._entries.move_to_end(key)
            found[key] = (entry[1], entry[0])
        return found

    def get(self, key: str) -> V | None:
        found = self.get_many_until((key,)).get(key)
        return None if found is None else found[0]

    def put(self, key: str, value: V, fresh_until: float, size: int) -> None:
        """Keep ``value`` (``size``: its encoded bytes) until ``fresh_until`` (wall-clock seconds)."""
        if size > self._max_bytes or fresh_until <= self._clock():
            return
        self._drop(key)
        self._entries[key] = (fresh_until, value, size)
        self._bytes += size
        while self._bytes > self._max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry[2]

    @property
    def size_bytes(self) -> int:
        return self._bytes
