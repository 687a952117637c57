"""A circuit breaker per upstream: stop calling an authority that is down, probe before trusting it.

::

    CLOSED ──(N consecutive failures, or failure rate over the window)──▶ OPEN
    OPEN ──(open period elapsed; the next caller becomes the one probe)──▶ HALF_OPEN
    HALF_OPEN ──probe succeeds──▶ CLOSED          HALF_OPEN ──probe fails──▶ OPEN (period doubled)

While open, and while the probe of a half-open circuit is in flight, :meth:`CircuitBreaker.admit`
raises :class:`CircuitOpen` *without calling*: failing in microseconds instead of after a timeout
is the point, both for our callers (the healthy authority's data still comes back quickly) and
for an upstream trying to recover.

The breaker is pure bookkeeping (no I/O, no asyncio) with an injectable clock, so every transition
is tested without sleeping. It classifies nothing: the guard tells it "failure", "success" or
"neutral" (a call that says nothing about the upstream's health, e.g. cancelled or rejected).
Each admission hands out a :class:`Permit`; outcomes of permits from an earlier generation (calls
that started before the last transition) update the statistics but never move the state.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ..domain import Authority
from ..errors import UpstreamUnavailable
from .config import BreakerConfig
from .deadline import Clock

__all__ = ["BreakerSnapshot", "CircuitBreaker", "CircuitOpen", "CircuitState", "Permit"]

_ERROR_LIMIT = 200  # characters of the last error kept for /readyz


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(UpstreamUnavailable):
    """Failing fast: the circuit of this upstream is open (``UPSTREAM_UNAVAILABLE`` for clients)."""


@dataclass(frozen=True, slots=True)
class Permit:
    """Leave to make one attempt; hand it back with exactly one outcome."""

    generation: int
    probe: bool


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """What /readyz shows of one breaker. Instants are wall-clock seconds since the epoch."""

    state: CircuitState
    consecutive_failures: int
    last_error: str | None
    last_success_at: float | None
    last_failure_at: float | None
    retry_after_s: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None


class CircuitBreaker:
    """The state machine above, for one upstream."""

    def __init__(
        self,
        authority: Authority,
        config: BreakerConfig,
        *,
        clock: Clock = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        on_transition: Callable[[CircuitState], None] | None = None,
    ) -> None:
        self._authority = authority
        self._config = config
        self._clock = clock
        self._wall_clock = wall_clock
        self._on_transition = on_transition
        self._state = CircuitState.CLOSED
        self._generation = 0
        self._consecutive = 0
        self._window: deque[bool] = deque(maxlen=config.window)  # True = failure
        self._open_for = config.open_s
        self._reopen_at = 0.0
        self._probe_in_flight = False
        self._latencies: deque[float] = deque(maxlen=config.latency_window)
        self._last_error: str | None = None
        self._last_success_at: float | None = None
        self._last_failure_at: float | None = None

    @property
    def state(self) -> CircuitState:
        """The state as a caller would find it now (an elapsed open period reads as half-open)."""
        if self._state is CircuitState.OPEN and self._clock() >= self._reopen_at:
            return CircuitState.HALF_OPEN
        return self._state

    def admit(self, *, endpoint: str | None = None) -> Permit:
        """A permit to call, or :class:`CircuitOpen` if the upstream must not be called now."""
        if self._state is CircuitState.OPEN:
            wait = self._reopen_at - self._clock()
            if wait > 0:
                raise CircuitOpen(self._authority, "circuit open", endpoint=endpoint, retry_after_s=wait)
            self._move(CircuitState.HALF_OPEN)
        if self._state is CircuitState.HALF_OPEN:
            if self._probe_in_flight:
                # Nobody knows when the probe ends (it is bounded by its own timeout), so no
                # Retry-After: a client should back off as it would for any outage.
                raise CircuitOpen(self._authority, "circuit half-open, probe in flight", endpoint=endpoint)
            self._probe_in_flight = True
            return Permit(self._generation, probe=True)
        return Permit(self._generation, probe=False)

    def record_success(self, permit: Permit, latency_s: float) -> None:
        self._latencies.append(latency_s)
        self._last_success_at = self._wall_clock()
        if not self._current(permit):
            return
        if permit.probe:
            self._probe_in_flight = False
            self._open_for = self._config.open_s
            self._move(CircuitState.CLOSED)
            return
        self._consecutive = 0
        self._window.append(False)

    def record_failure(self, permit: Permit, error: str, latency_s: float | None = None) -> None:
        """``error`` must already be free of secrets (upstream errors' messages are, by contract)."""
        if latency_s is not None:
            self._latencies.append(latency_s)
        self._last_error = error[:_ERROR_LIMIT]
        self._last_failure_at = self._wall_clock()
        if not self._current(permit):
            return
        if permit.probe:
            self._probe_in_flight = False
            self._consecutive += 1
            self._open_for = min(self._open_for * 2, self._config.max_open_s)
            self._open()
            return
        self._consecutive += 1
        self._window.append(True)
        if self._consecutive >= self._config.failure_threshold or self._rate_exceeded():
            self._open()

    def record_neutral(self, permit: Permit) -> None:
        """The attempt said nothing about the upstream's health (cancelled, rejected, our own limit).

        A neutral probe frees the probe slot, so the next caller probes instead of everyone
        waiting for an answer that will never come.
        """
        if self._current(permit) and permit.probe:
            self._probe_in_flight = False

    def snapshot(self) -> BreakerSnapshot:
        state = self.state
        ordered = sorted(self._latencies)
        return BreakerSnapshot(
            state=state,
            consecutive_failures=self._consecutive,
            last_error=self._last_error,
            last_success_at=self._last_success_at,
            last_failure_at=self._last_failure_at,
            retry_after_s=max(0.0, self._reopen_at - self._clock()) if state is CircuitState.OPEN else None,
            latency_p50_ms=_percentile_ms(ordered, 0.50),
            latency_p95_ms=_percentile_ms(ordered, 0.95),
        )

    def _current(self, permit: Permit) -> bool:
        return permit.generation == self._generation

    def _rate_exceeded(self) -> bool:
        rate = self._config.failure_rate
        if rate is None or len(self._window) < self._config.min_calls:
            return False
        return sum(self._window) / len(self._window) >= rate

    def _open(self) -> None:
        self._reopen_at = self._clock() + self._open_for
        self._move(CircuitState.OPEN)

    def _move(self, state: CircuitState) -> None:
        """Every transition starts a new generation: late outcomes of older permits only count as stats."""
        self._state = state
        self._generation += 1
        if state is CircuitState.CLOSED:
            self._consecutive = 0
            self._window.clear()
        if self._on_transition is not None:
            self._on_transition(state)


def _percentile_ms(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    index = min(len(ordered) - 1, int(q * len(ordered)))
    return round(ordered[index] * 1000, 3)
