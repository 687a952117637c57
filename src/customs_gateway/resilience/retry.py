"""Which failures are retried, after how long, and the stamina retry loop that does it.

The decision (:func:`backoff_for`) is a pure function of the error, the attempt number and the
time left, so it is tested exhaustively without a loop or a clock. The loop is stamina's
``retry_context``: its ``on`` hook may return ``False`` (give up, the error propagates), ``True``
(retry after stamina's own jittered exponential backoff) or a number of seconds (retry after
exactly that: how a ``Retry-After`` is honoured). stamina's test switches apply as everywhere:
``stamina.set_testing(True)`` makes every backoff, ``Retry-After`` included, zero, and caps attempts.

Retried: ``UpstreamUnavailable`` and ``UpstreamTimeout`` of an idempotent call, while the deadline
leaves room for the backoff plus a useful attempt. Never retried: a non-idempotent call (the first
attempt may have had an effect), ``UpstreamRejected`` and ``UpstreamContract`` (the same request
gets the same answer), and the failures the gateway raises itself (:class:`CircuitOpen`: failing
fast is the point; :class:`TooManyConcurrentCalls`: retrying adds load where there is too much;
:class:`DeadlineExceeded`: no time left).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import stamina

from ..errors import UpstreamTimeout, UpstreamUnavailable
from .breaker import CircuitOpen
from .config import RetryConfig
from .deadline import Deadline, DeadlineExceeded
from .limiter import TooManyConcurrentCalls

__all__ = ["RetryPlan", "backoff_for", "worst_case_backoff"]

_NEVER_RETRIED = (CircuitOpen, TooManyConcurrentCalls, DeadlineExceeded)


def worst_case_backoff(config: RetryConfig, attempt: int) -> float:
    """The longest backoff stamina may sleep after failed attempt number ``attempt`` (1-based)."""
    try:
        grown = config.wait_initial_s * config.wait_exp_base ** (attempt - 1)
    except OverflowError:
        return config.wait_max_s
    return min(config.wait_max_s, grown + config.wait_jitter_s)


def backoff_for(
    error: BaseException, *, idempotent: bool, attempt: int, remaining_s: float, config: RetryConfig
) -> bool | float:
    """stamina's hook: ``False`` = give up now, ``True`` = exponential backoff, a float = sleep that long."""
    if not idempotent or isinstance(error, _NEVER_RETRIED):
        return False
    if not isinstance(error, UpstreamUnavailable | UpstreamTimeout):
        return False
    budget = remaining_s - config.min_attempt_s
    retry_after = error.retry_after_s if isinstance(error, UpstreamUnavailable) else None
    if retry_after is not None:
        # The authority told us when; retrying earlier only earns another 429. If "when" is past
        # our deadline or our patience, give up at once rather than sleep towards a timeout.
        wait = max(0.0, retry_after)
        return wait if wait <= config.max_retry_after_s and wait <= budget else False
    return worst_case_backoff(config, attempt) <= budget


@dataclass
class RetryPlan:
    """``async for attempt in RetryPlan(...): with attempt: …``: stamina's loop, deadline-aware.

    A class rather than a generator so the caller may ``return`` from inside the loop without
    leaving an unfinished async generator for the event loop to finalise. ``allow`` is asked
    before each retry (the guard: "is the circuit still closed?"), so an error that just opened
    the circuit propagates as itself instead of being replaced by a fast-fail "circuit open".
    """

    config: RetryConfig
    idempotent: bool
    deadline: Deadline
    allow: Callable[[], bool] = lambda: True
    attempt: int = 0
    _attempts: AsyncIterator[stamina.Attempt] | None = field(default=None, repr=False)

    def __aiter__(self) -> RetryPlan:
        self._attempts = stamina.retry_context(
            on=self._hook,
            # A non-idempotent call gets one attempt; the hook refuses too, so a stamina test
            # mode that raises attempts cannot sneak a retry in either.
            attempts=self.config.attempts if self.idempotent else 1,
            timeout=None,  # the deadline bounds time, through the hook
            wait_initial=self.config.wait_initial_s,
            wait_max=self.config.wait_max_s,
            wait_jitter=self.config.wait_jitter_s,
            wait_exp_base=self.config.wait_exp_base,
        ).__aiter__()
        return self

    async def __anext__(self) -> stamina.Attempt:
        if self._attempts is None:
            raise RuntimeError("iterate a RetryPlan with `async for`")
        attempt = await self._attempts.__anext__()
        self.attempt = attempt.num
        return attempt

    def _hook(self, error: Exception) -> bool | float:
        if not self.allow():
            return False
        return backoff_for(
            error,
            idempotent=self.idempotent,
            attempt=self.attempt,
            remaining_s=self.deadline.remaining(),
            config=self.config,
        )
