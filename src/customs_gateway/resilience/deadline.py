"""The per-operation deadline, carried in a contextvar so every upstream call under it sees it.

A GraphQL operation gets one time budget (``with operation_deadline(seconds): …``); each upstream
call under it may use at most what is left of it, so a slow first call cannot make the whole
operation overrun by stacking its own full timeout on top. A contextvar (not an argument) because
the calls happen deep in sources and DataLoaders that know nothing of the operation, and asyncio
copies the context into every task those spawn.

Deadlines nest by taking the *earlier* instant: an inner block can shorten the budget, never
extend it. The clock is injectable (a monotonic one in production) so tests need not sleep.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ..domain import Authority
from ..errors import UpstreamTimeout

__all__ = [
    "Clock",
    "Deadline",
    "DeadlineExceeded",
    "ManualClock",
    "current_deadline",
    "detached_deadline",
    "operation_deadline",
]

Clock = Callable[[], float]
"""Seconds on a monotonic scale; only differences matter."""


class ManualClock:
    """A clock that moves only when told: for tests of anything that takes a :data:`Clock`.

    Shipped with the package (not hidden in a test file) so the tests of the code that wires the
    guards in can drive breakers and deadlines the same way.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("customs_gateway_deadline", default=None)


@dataclass(frozen=True, slots=True)
class Deadline:
    """An instant on ``clock``'s scale after which nobody should wait for an answer any more."""

    expires_at: float
    clock: Clock = time.monotonic

    @classmethod
    def after(cls, seconds: float, clock: Clock = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.expires_at - self.clock())

    def expired(self) -> bool:
        return self.clock() >= self.expires_at


class DeadlineExceeded(UpstreamTimeout):
    """The operation's budget ran out before (or while waiting to) call the upstream.

    A subclass of :class:`UpstreamTimeout` so clients see ``UPSTREAM_TIMEOUT``; separate so the
    guard neither retries it nor counts it against the upstream's circuit: the upstream did
    nothing wrong, the operation was out of time.
    """

    def __init__(self, authority: Authority, *, endpoint: str | None = None) -> None:
        super().__init__(authority, "operation deadline exceeded before the call", endpoint=endpoint)


def current_deadline() -> Deadline | None:
    """The deadline of the operation this task runs under, if any."""
    return _current.get()


@contextmanager
def operation_deadline(seconds: float, *, clock: Clock = time.monotonic) -> Iterator[Deadline]:
    """Run the block under a budget of ``seconds`` (or the enclosing one, if that ends earlier)."""
    if seconds < 0:
        raise ValueError("a deadline budget cannot be negative")
    deadline = Deadline.after(seconds, clock)
    outer = _current.get()
    if outer is not None and outer.clock is clock and outer.expires_at <= deadline.expires_at:
        deadline = outer
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


@contextmanager
def detached_deadline(seconds: float, *, clock: Clock = time.monotonic) -> Iterator[Deadline]:
    """Run the block under its own budget of ``seconds``, *replacing* the enclosing one.

    Only for work whose result outlives the operation that started it: a report's partials are
    cached and shared by every later request, so scanning them is bounded by the report's own
    budget (``[reports] scan_deadline_s``), not by the first asker's operation deadline.
    """
    if seconds < 0:
        raise ValueError("a deadline budget cannot be negative")
    deadline = Deadline.after(seconds, clock)
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)
