"""Typed cache settings: which backend, how big, and how long each kind of entity stays fresh.

The lead's ``GatewaySettings`` embeds :class:`CacheConfig` as a field; nothing here reads the
environment or a file. TTLs are per *class of state*, not per resource, because what decides how
long an answer stays true is whether the thing it describes can still change: a released trip or
a past day's exchange rate never will, a trip at the border will within a minute.

Every class gets the same stale grace: past its fresh lifetime an entry is kept ``stale_grace_s``
longer so it can be served while it is revalidated, or when the upstream fails. "Not found" gets
no grace: an id that did not exist a minute ago may exist now, and saying it does not while the
authority is down would be a lie, not a degraded answer.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from .policy import CachePolicy

__all__ = ["CacheConfig", "TtlClass", "TtlConfig"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class TtlClass(StrEnum):
    """How long an answer stays true, by the state of what it describes."""

    FINAL = "final"  # released trips, completed inspections: they will not change
    IN_PROGRESS = "in_progress"  # trips at the border, inspections under way
    LIST = "list"  # a page of a list: new records appear at any time
    NOT_FOUND = "not_found"  # the authority said the id does not exist (yet)
    PAST_RATE = "past_rate"  # an exchange rate of a day that is over
    CURRENT_RATE = "current_rate"  # today's rate: may still be published or corrected


class TtlConfig(BaseModel):
    """Fresh lifetimes, in seconds, one per :class:`TtlClass`."""

    model_config = _FROZEN

    final_s: float = Field(default=24 * 3600, gt=0)
    in_progress_s: float = Field(default=60, gt=0)
    list_s: float = Field(default=30, gt=0)
    not_found_s: float = Field(default=30, gt=0)
    past_rate_s: float = Field(default=7 * 24 * 3600, gt=0)
    current_rate_s: float = Field(default=600, gt=0)
    # Inspections of a record say nothing of whether more will come; a record's inspections count
    # as final (final_s) once all have finished and the last finished this long ago.
    settled_after_s: float = Field(default=6 * 3600, ge=0)

    def fresh_s(self, ttl_class: TtlClass) -> float:
        return float(getattr(self, f"{ttl_class.value}_s"))


class CacheConfig(BaseModel):
    """The gateway's cache: backend, bounds of the in-memory one, TTLs, stale grace.

    ``redis_url`` is a secret (it may carry a password), so it never shows in a repr or a log.
    """

    model_config = _FROZEN

    # Off: the sources are used as they are (benchmarks and tests that count upstream requests).
    enabled: bool = True
    backend: Literal["memory", "redis"] = "memory"
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    # A cache that is slower than the upstream is worse than none: past this a Redis call is
    # abandoned and the lookup counts as a miss.
    redis_timeout_s: float = Field(default=0.25, gt=0)
    redis_pool_max_size: int | None = Field(default=64, ge=1)
    # Bounds of the in-memory backend; whichever is reached first evicts (least recently used).
    max_entries: int = Field(default=100_000, ge=1)
    max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    # Decoded domain values kept next to the bytes they came from, per resource (LRU): a hot
    # record is decoded once rather than on every read. 0 turns it off. Not counted in max_bytes.
    decoded_memo_entries: int = Field(default=2_000, ge=0)
    # Keys are "<namespace>:v<key_version>:<authority>:<resource>:<id|params>". Bump key_version when
    # the cached bytes change shape, so replicas of two releases never read each other's entries.
    namespace: str = Field(default="cgw", min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
    key_version: int = Field(default=1, ge=1)
    ttl: TtlConfig = TtlConfig()
    stale_grace_s: float = Field(default=600, ge=0)

    @model_validator(mode="after")
    def _redis_url_scheme(self) -> CacheConfig:
        url = self.redis_url.get_secret_value()
        if not url.startswith(("redis://", "rediss://")):
            raise ValueError("redis_url must start with redis:// or rediss://")
        return self

    def policy(self, ttl_class: TtlClass) -> CachePolicy:
        """The policy for entries of one class: its fresh lifetime plus the stale grace."""
        stale_s = 0.0 if ttl_class is TtlClass.NOT_FOUND else self.stale_grace_s
        return CachePolicy(fresh_s=self.ttl.fresh_s(ttl_class), stale_s=stale_s)
