"""Resilience around the authorities' APIs: deadline, retries, circuit breaker, bulkhead.

Each piece is standalone and tested on its own; :class:`UpstreamGuard` composes them in one order
(see ``guard.py``), one guard per authority, and a source's client calls
``await guard.call(endpoint, idempotent, attempt_fn)`` around each logical upstream call.
"""

from .breaker import BreakerSnapshot, CircuitBreaker, CircuitOpen, CircuitState, Permit
from .config import BreakerConfig, LimiterConfig, ResilienceConfig, RetryConfig, UpstreamPolicy
from .deadline import (
    Clock,
    Deadline,
    DeadlineExceeded,
    ManualClock,
    current_deadline,
    detached_deadline,
    operation_deadline,
)
from .guard import CallObserver, Outcome, UpstreamGuard, UpstreamStatus
from .limiter import ConcurrencyLimiter, TooManyConcurrentCalls
from .retry import RetryPlan, backoff_for, worst_case_backoff

__all__ = [
    "BreakerConfig",
    "BreakerSnapshot",
    "CallObserver",
    "CircuitBreaker",
    "CircuitOpen",
    "CircuitState",
    "Clock",
    "ConcurrencyLimiter",
    "Deadline",
    "DeadlineExceeded",
    "LimiterConfig",
    "ManualClock",
    "Outcome",
    "Permit",
    "ResilienceConfig",
    "RetryConfig",
    "RetryPlan",
    "TooManyConcurrentCalls",
    "UpstreamGuard",
    "UpstreamPolicy",
    "UpstreamStatus",
    "backoff_for",
    "current_deadline",
    "detached_deadline",
    "operation_deadline",
    "worst_case_backoff",
]
