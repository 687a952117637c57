"""What the cache reports, by resource: hits, misses, stale serves, evictions, backend errors.

A small protocol instead of a metrics library so the cache stays testable on its own and the
observability layer decides the exposition (``observability.metrics.CacheMetrics`` implements
it and is what the app passes). :class:`CacheCounters` is the plain in-process implementation
tests read.

Counts are per *cache lookup*: a caller that joined a load already in flight did not look the
cache up and is not counted, so "100 concurrent identical loads on a cold cache" is one miss.
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol

__all__ = ["CacheCounters", "CacheObserver", "NullObserver"]


class CacheObserver(Protocol):
    def hit(self, resource: str, n: int = 1) -> None:
        """``n`` lookups answered by fresh entries."""

    def miss(self, resource: str, n: int = 1) -> None:
        """``n`` lookups that had to go upstream (absent, expired, corrupt, or unreadable entries)."""

    def stale(self, resource: str, n: int = 1) -> None:
        """``n`` lookups answered by stale entries (while revalidating, or because the upstream failed)."""

    def evicted(self, resource: str, n: int = 1) -> None:
        """``n`` live entries dropped to stay within the memory bound."""

    def backend_error(self, operation: str) -> None:
        """The backend failed (``"get"`` or ``"set"``); the lookup went on without the cache."""


class NullObserver:
    def hit(self, resource: str, n: int = 1) -> None:
        pass

    def miss(self, resource: str, n: int = 1) -> None:
        pass

    def stale(self, resource: str, n: int = 1) -> None:
        pass

    def evicted(self, resource: str, n: int = 1) -> None:
        pass

    def backend_error(self, operation: str) -> None:
        pass


class CacheCounters:
    """Plain counters, keyed by resource (backend errors by operation)."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()
        self.stale_serves: Counter[str] = Counter()
        self.evictions: Counter[str] = Counter()
        self.backend_errors: Counter[str] = Counter()

    def hit(self, resource: str, n: int = 1) -> None:
        self.hits[resource] += n

    def miss(self, resource: str, n: int = 1) -> None:
        self.misses[resource] += n

    def stale(self, resource: str, n: int = 1) -> None:
        self.stale_serves[resource] += n

    def evicted(self, resource: str, n: int = 1) -> None:
        self.evictions[resource] += n

    def backend_error(self, operation: str) -> None:
        self.backend_errors[operation] += 1
