"""A value computed at most once per request and shared by every resolver that asks for it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["Lazy"]

T = TypeVar("T")


class Lazy(Generic[T]):
    """Starts ``compute`` on first :meth:`get`; later calls share its result or its exception.

    Sides of a trip resolve through these so that, when one authority fails, only the fields
    that need it fail (each re-raising the same upstream error), while the rest resolve.
    """

    __slots__ = ("_compute", "_error", "_has_value", "_task", "_value")

    def __init__(self, compute: Callable[[], Awaitable[T]] | None = None) -> None:
        self._compute = compute
        self._task: asyncio.Future[T] | None = None
        self._has_value = False
        self._value: T | None = None
        self._error: BaseException | None = None

    @classmethod
    def ready(cls, value: T) -> Lazy[T]:
        lazy: Lazy[T] = cls()
        lazy._has_value, lazy._value = True, value
        return lazy

    @classmethod
    def failed(cls, error: BaseException) -> Lazy[T]:
        lazy: Lazy[T] = cls()
        lazy._error = error
        return lazy

    @property
    def known(self) -> bool:
        """Whether the value is at hand: set, or computed by a started task that has finished.

        A computation :meth:`start`-ed in a request's first round (an inspections list, a rate
        table) has usually finished by the time the fields that read it run; counting it as
        known lets those fields answer at once instead of through an awaitable (see
        ``schema.fields.now_or_later``). A failed or cancelled task is not known: :meth:`get`
        raises its error.
        """
        if not self._has_value:
            task = self._task
            if task is None or not task.done() or task.cancelled() or task.exception() is not None:
                return False
            self._has_value, self._value = True, task.result()
        return True

    def peek(self) -> T | None:
        """The value if it is already known, without starting anything."""
        return self._value if self.known else None

    def start(self) -> Lazy[T]:
        """Begin computing now (in the current round of calls) instead of on first :meth:`get`."""
        if not self._has_value and self._error is None and self._task is None and self._compute is not None:
            self._task = asyncio.ensure_future(self._compute())
            # A failure nobody asks about must not be reported as "never retrieved".
            self._task.add_done_callback(lambda task: task.cancelled() or task.exception())
        return self

    async def get(self) -> T:
        if self._has_value:
            return self._value  # type: ignore[return-value]  # set together with _has_value
        if self._error is not None:
            raise self._error
        if self._task is None:
            if self._compute is None:
                raise RuntimeError("Lazy without a value, an error or a computation")
            self._task = asyncio.ensure_future(self._compute())
        try:
            value = await asyncio.shield(self._task)
        except Exception as exc:
            self._error = exc
            raise
        self._has_value, self._value = True, value
        return value
