"""How long one entry is fresh, and how long after that it may still be served stale."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CachePolicy"]


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """``fresh_s`` of freshness, then ``stale_s`` of grace; the backend keeps the entry for both.

    The caller picks the policy per value (it knows whether a record is final or in progress);
    the cache only applies it. The backend TTL is ``fresh_s + stale_s`` so that a stale entry is
    still there to serve while it is revalidated or while the upstream is failing.
    """

    fresh_s: float
    stale_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.fresh_s > 0:
            raise ValueError(f"fresh_s must be positive, got {self.fresh_s!r}")
        if not self.stale_s >= 0:
            raise ValueError(f"stale_s must be non-negative, got {self.stale_s!r}")

    @property
    def backend_ttl_s(self) -> float:
        return self.fresh_s + self.stale_s
