"""One guard per upstream: every logical call to an authority goes through ``guard.call``.

Order of one attempt, and why::

    deadline check   no time left → DeadlineExceeded, nothing else is touched
    breaker          open → CircuitOpen without calling (and without queueing for a slot)
    limiter          wait ≤ min(max wait, time left) for a slot → else TooManyConcurrentCalls
    attempt          attempt_fn() under asyncio.timeout(min(upstream total timeout, time left))
    record           breaker outcome, latency, metrics, one JSON log line
    retry decision   stamina's hook (retry.py): idempotent, retryable error, fits the deadline

The breaker comes before the limiter so that a dead upstream's callers fail in microseconds
instead of first queueing behind each other; the slot is held for one attempt only, so a backoff
never occupies capacity. Retries go round the whole sequence, so a retry meets a full bulkhead
like any other call; none is made once the circuit has left "closed" (it would only fail fast).

How an outcome counts for the breaker: ``UpstreamUnavailable`` and ``UpstreamTimeout`` are
failures, except a timeout whose budget the *operation's deadline* had cut below the upstream's
own timeout (the operation ran out of time; the upstream was not given a fair chance). An answer,
even a rejection, a contract breach or a "not found", shows the upstream is up: success. The
gateway's own refusals, cancellation and unexpected exceptions (our bugs) are neutral.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

from ..domain import Authority
from ..errors import UpstreamContract, UpstreamError, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from .breaker import BreakerSnapshot, CircuitBreaker, CircuitOpen, CircuitState, Permit
from .config import ResilienceConfig, UpstreamPolicy
from .deadline import Clock, Deadline, DeadlineExceeded, current_deadline
from .limiter import ConcurrencyLimiter, TooManyConcurrentCalls
from .retry import RetryPlan

__all__ = ["CallObserver", "Outcome", "UpstreamGuard", "UpstreamStatus"]

T = TypeVar("T")

_log = logging.getLogger("customs_gateway.upstream")


class Outcome(StrEnum):
    """The ``outcome`` label of upstream metrics and log lines: one per attempt."""

    OK = "ok"
    NOT_FOUND = "not_found"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    REJECTED = "rejected"
    CONTRACT = "contract"
    CIRCUIT_OPEN = "circuit_open"
    OVERLOADED = "overloaded"  # our bulkhead had no slot in time
    DEADLINE_EXCEEDED = "deadline_exceeded"  # the operation had no time left; nothing was sent
    CANCELLED = "cancelled"
    ERROR = "error"  # an exception that is not an upstream error: a bug on our side


class _Health(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    NEUTRAL = "neutral"


class CallObserver(Protocol):
    """What the guard reports to; ``observability.metrics.GatewayMetrics`` is one."""

    def upstream_attempt(
        self, authority: Authority, endpoint: str, outcome: Outcome, duration_s: float, attempt: int
    ) -> None: ...

    def circuit_state(self, authority: Authority, state: CircuitState) -> None: ...


@dataclass(frozen=True, slots=True)
class UpstreamStatus:
    """One upstream as /readyz shows it."""

    authority: Authority
    breaker: BreakerSnapshot
    in_flight: int
    waiting: int
    concurrency_limit: int


class _ClippedTimeout(UpstreamTimeout):
    """Our per-attempt timeout fired, and it was shorter than the upstream's own (the deadline cut it)."""


class UpstreamGuard:
    """Deadline, breaker, bulkhead and retries around the calls to one authority.

    ``total_timeout_s`` is the upstream's own per-call timeout (from its source settings).
    ``answers`` are exception types that are an answer rather than a failure (a source's
    "not found" signal): outcome ``not_found``, re-raised untouched, never retried.
    """

    def __init__(
        self,
        authority: Authority,
        policy: UpstreamPolicy,
        *,
        total_timeout_s: float,
        default_deadline_s: float,
        answers: tuple[type[BaseException], ...] = (),
        observer: CallObserver | None = None,
        clock: Clock = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.authority = authority
        self._policy = policy
        self._total_timeout_s = total_timeout_s
        self._default_deadline_s = default_deadline_s
        self._answers = answers
        self._observer = observer
        self._clock = clock
        self.breaker = CircuitBreaker(
            authority, policy.breaker, clock=clock, wall_clock=wall_clock, on_transition=self._transitioned
        )
        self.limiter = ConcurrencyLimiter(authority, policy.limiter.max_concurrency, policy.limiter.max_wait_s)

    @classmethod
    def from_config(
        cls,
        authority: Authority,
        config: ResilienceConfig,
        *,
        total_timeout_s: float,
        answers: tuple[type[BaseException], ...] = (),
        observer: CallObserver | None = None,
    ) -> UpstreamGuard:
        """The guard of ``authority`` as the gateway's settings describe it."""
        return cls(
            authority,
            config.policy_for(authority),
            total_timeout_s=total_timeout_s,
            default_deadline_s=config.operation_deadline_s,
            answers=answers,
            observer=observer,
        )

    async def call(self, endpoint: str, idempotent: bool, attempt_fn: Callable[[], Awaitable[T]]) -> T:
        """One logical upstream call; ``attempt_fn`` makes one attempt and is called once per attempt.

        ``endpoint`` is a *bounded* name (``"manifest.get"``, a route template), never a URL with
        ids in it: it is a metrics label. Outside any ``operation_deadline`` the call gets the
        default operation budget of its own, so retries are always bounded in time.
        """
        deadline = current_deadline() or Deadline.after(self._default_deadline_s, self._clock)
        # The first attempt runs before stamina's loop exists: almost every call succeeds at
        # once, and building the loop (tenacity's state, stop and wait objects, hooks) cost a
        # tenth of an exchange's CPU, on every cold request's critical path. A first failure is
        # replayed as the loop's attempt 1, so stamina decides about it, backs off and counts
        # attempts exactly as if it had run there.
        try:
            return await self._attempt(endpoint, 1, deadline, attempt_fn)
        except Exception as exc:  # handed to the retry loop below, which re-raises it
            first_failure: Exception | None = exc
        plan = RetryPlan(self._policy.retry, idempotent, deadline, allow=self._closed)
        async for attempt in plan:
            with attempt:
                if first_failure is not None:
                    failure, first_failure = first_failure, None
                    raise failure
                return await self._attempt(endpoint, attempt.num, deadline, attempt_fn)
        raise AssertionError("unreachable: stamina re-raises the last error")

    def _closed(self) -> bool:
        return self.breaker.state is CircuitState.CLOSED

    def status(self) -> UpstreamStatus:
        return UpstreamStatus(
            authority=self.authority,
            breaker=self.breaker.snapshot(),
            in_flight=self.limiter.in_flight,
            waiting=self.limiter.waiting,
            concurrency_limit=self.limiter.limit,
        )

    async def _attempt(
        self, endpoint: str, number: int, deadline: Deadline, attempt_fn: Callable[[], Awaitable[T]]
    ) -> T:
        started = self._clock()
        permit: Permit | None = None
        called_at: float | None = None
        try:
            if deadline.expired():
                raise DeadlineExceeded(self.authority, endpoint=endpoint)
            permit = self.breaker.admit(endpoint=endpoint)
            async with self.limiter.slot(deadline.remaining(), endpoint=endpoint):
                budget = min(self._total_timeout_s, deadline.remaining())
                if budget <= 0:
                    raise DeadlineExceeded(self.authority, endpoint=endpoint)
                called_at = self._clock()
                result = await self._timed(endpoint, budget, attempt_fn)
        except BaseException as exc:
            outcome, health = self._classify(exc)
            self._settle(permit, health, exc, called_at)
            self._report(endpoint, number, outcome, started, exc)
            raise
        self._settle(permit, _Health.SUCCESS, None, called_at)
        self._report(endpoint, number, Outcome.OK, started, None)
        return result

    async def _timed(self, endpoint: str, budget: float, attempt_fn: Callable[[], Awaitable[T]]) -> T:
        try:
            async with asyncio.timeout(budget) as scope:
                return await attempt_fn()
        except TimeoutError as exc:
            if not scope.expired():
                raise  # someone else's timeout: not ours to translate
            kind = _ClippedTimeout if budget < self._total_timeout_s else UpstreamTimeout
            raise kind(self.authority, f"no answer within {budget:.3g} s", endpoint=endpoint) from exc

    def _classify(self, exc: BaseException) -> tuple[Outcome, _Health]:
        # Order matters: the gateway's own refusals subclass the upstream errors they look like.
        if isinstance(exc, self._answers):
            return Outcome.NOT_FOUND, _Health.SUCCESS
        if isinstance(exc, CircuitOpen):
            return Outcome.CIRCUIT_OPEN, _Health.NEUTRAL
        if isinstance(exc, TooManyConcurrentCalls):
            return Outcome.OVERLOADED, _Health.NEUTRAL
        if isinstance(exc, DeadlineExceeded):
            return Outcome.DEADLINE_EXCEEDED, _Health.NEUTRAL
        if isinstance(exc, _ClippedTimeout):
            return Outcome.TIMEOUT, _Health.NEUTRAL
        if isinstance(exc, UpstreamTimeout):
            return Outcome.TIMEOUT, _Health.FAILURE
        if isinstance(exc, UpstreamUnavailable):
            return Outcome.UNAVAILABLE, _Health.FAILURE
        if isinstance(exc, UpstreamRejected):
            return Outcome.REJECTED, _Health.SUCCESS
        if isinstance(exc, UpstreamContract):
            return Outcome.CONTRACT, _Health.SUCCESS
        if isinstance(exc, asyncio.CancelledError):
            return Outcome.CANCELLED, _Health.NEUTRAL
        return Outcome.ERROR, _Health.NEUTRAL

    def _settle(
        self, permit: Permit | None, health: _Health, exc: BaseException | None, called_at: float | None
    ) -> None:
        if permit is None:
            return
        latency = None if called_at is None else self._clock() - called_at
        if health is _Health.SUCCESS and latency is not None:
            self.breaker.record_success(permit, latency)
        elif health is _Health.FAILURE and exc is not None:
            self.breaker.record_failure(permit, _describe(exc), latency)
        else:
            self.breaker.record_neutral(permit)

    def _report(self, endpoint: str, number: int, outcome: Outcome, started: float, exc: BaseException | None) -> None:
        duration = max(0.0, self._clock() - started)
        if self._observer is not None:
            self._observer.upstream_attempt(self.authority, endpoint, outcome, duration, number)
        quiet = outcome in (Outcome.OK, Outcome.NOT_FOUND, Outcome.CANCELLED)
        fields: dict[str, object] = {
            "authority": self.authority.value,
            "endpoint": endpoint,
            "outcome": outcome.value,
            "duration_ms": round(duration * 1000, 3),
            "attempt": number,
        }
        if exc is not None and not quiet:
            fields["error"] = _describe(exc)
            if isinstance(exc, UpstreamUnavailable) and exc.retry_after_s is not None:
                fields["retry_after_s"] = round(exc.retry_after_s, 3)
        _log.log(logging.INFO if quiet else logging.WARNING, "upstream call", extra=fields)

    def _transitioned(self, state: CircuitState) -> None:
        _log.warning("circuit %s", state.value, extra={"authority": self.authority.value, "circuit": state.value})
        if self._observer is not None:
            self._observer.circuit_state(self.authority, state)


def _describe(exc: BaseException) -> str:
    """Upstream errors' messages are secret-free by contract; anything else shows only its type."""
    return exc.message if isinstance(exc, UpstreamError) else type(exc).__name__
