"""Render-once memos for the pooled objects every trip refers to.

A dataset build renders each of its ~10^5 trips for the ground truth and for both authorities,
but the trucks, drivers and companies of a trip come from per-seed pools (:mod:`customs_sim.people`):
the same few thousand objects recur in every trip. Their rendered parts (a JSON fragment, an XML
element) are therefore computed once per object and reused.

Keyed by identity, not equality: hashing a dataclass costs a Python call per lookup, ``id()`` none.
An entry keeps its object alive, so an id is never reused while it is cached; the memo is bounded
(cleared when full), so objects that are not pooled (a test's hand-made trips) cannot grow it without
limit. Rendering is pure, so a hit returns exactly what a fresh render would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["identity_memo"]

K = TypeVar("K")
V = TypeVar("V")

_MAX_ENTRIES = 100_000


def identity_memo(make: Callable[[K], V], max_entries: int = _MAX_ENTRIES) -> Callable[[K], V]:
    """``make`` memoized per object identity (bounded; see the module's doc)."""
    entries: dict[int, tuple[K, V]] = {}

    def memoized(obj: K) -> V:
        hit = entries.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        value = make(obj)
        if len(entries) >= max_entries:
            entries.clear()
        entries[id(obj)] = (obj, value)
        return value

    return memoized
