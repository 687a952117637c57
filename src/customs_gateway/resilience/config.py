"""Typed resilience settings: retries, circuit breaker, concurrency limit, operation deadline.

Per-call timeouts are *not* here: they belong to each source's settings (``total_timeout_s``),
which the guard is given. Everything here is frozen and validated once, like the rest of the
gateway's settings; the lead's ``GatewaySettings`` embeds :class:`ResilienceConfig` as a field.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..domain import Authority

__all__ = ["BreakerConfig", "LimiterConfig", "ResilienceConfig", "RetryConfig", "UpstreamPolicy"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class RetryConfig(BaseModel):
    """Bounded, jittered exponential backoff for idempotent calls (fed to ``stamina``).

    The n-th backoff is ``min(wait_max_s, wait_initial_s * wait_exp_base**(n-1) + U(0, wait_jitter_s))``.
    """

    model_config = _FROZEN

    attempts: int = Field(default=3, ge=1, le=10, description="total attempts, the first included")
    wait_initial_s: float = Field(default=0.1, ge=0)
    wait_max_s: float = Field(default=2.0, ge=0)
    wait_jitter_s: float = Field(default=0.2, ge=0)
    wait_exp_base: float = Field(default=2.0, ge=1)
    # A Retry-After longer than this is a "come back later", not a hiccup: give up at once and let
    # the caller (cache, client) act on it instead of parking a request for minutes.
    max_retry_after_s: float = Field(default=5.0, ge=0)
    # Do not retry unless at least this much of the deadline would be left after the backoff:
    # an attempt with 5 ms to live only adds load.
    min_attempt_s: float = Field(default=0.05, ge=0)


class BreakerConfig(BaseModel):
    """When an upstream's circuit opens and how long it stays open.

    It opens on ``failure_threshold`` consecutive failures, or (if ``failure_rate`` is set) when at
    least ``min_calls`` of the last ``window`` calls were made and that share of them failed.
    Only ``UpstreamUnavailable`` and ``UpstreamTimeout`` are failures: a rejection or a contract
    breach says nothing about the upstream being up.
    """

    model_config = _FROZEN

    failure_threshold: int = Field(default=5, ge=1)
    failure_rate: float | None = Field(default=0.5, gt=0, le=1)
    window: int = Field(default=20, ge=1)
    min_calls: int = Field(default=10, ge=1)
    open_s: float = Field(default=10.0, gt=0, description="first open period")
    # Each failed probe doubles the open period up to this, so a dead upstream is probed rarely.
    max_open_s: float = Field(default=60.0, gt=0)
    latency_window: int = Field(default=100, ge=1, description="recent calls kept for p50/p95")

    @model_validator(mode="after")
    def _consistent(self) -> BreakerConfig:
        if self.min_calls > self.window:
            raise ValueError("min_calls cannot exceed window")
        if self.max_open_s < self.open_s:
            raise ValueError("max_open_s cannot be below open_s")
        return self


class LimiterConfig(BaseModel):
    """A bulkhead per upstream: at most ``max_concurrency`` calls in flight, queueing ``max_wait_s``."""

    model_config = _FROZEN

    max_concurrency: int = Field(default=16, ge=1)
    max_wait_s: float = Field(default=1.0, ge=0)


class UpstreamPolicy(BaseModel):
    """Everything the guard of one upstream needs besides that upstream's own timeouts."""

    model_config = _FROZEN

    retry: RetryConfig = RetryConfig()
    breaker: BreakerConfig = BreakerConfig()
    limiter: LimiterConfig = LimiterConfig()


class ResilienceConfig(BaseModel):
    """The gateway's resilience settings: one policy per upstream, one default operation deadline.

    ``per_upstream`` *replaces* ``default`` for the authorities it names (no field-by-field merge:
    what you read in the file is what runs).
    """

    model_config = _FROZEN

    operation_deadline_s: float = Field(
        default=15.0, gt=0, description="budget of one GraphQL operation (and of a guarded call outside any)"
    )
    default: UpstreamPolicy = UpstreamPolicy()
    per_upstream: dict[Authority, UpstreamPolicy] = Field(default_factory=dict)

    def policy_for(self, authority: Authority) -> UpstreamPolicy:
        return self.per_upstream.get(authority, self.default)
