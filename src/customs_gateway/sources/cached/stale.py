"""Which answers of one GraphQL request came from stale cache entries, for its ``extensions``.

The cached sources are shared by every request, so they cannot hold per-request state; the request
binds a :class:`StaleReport` to a context variable (:func:`collect_stale`) and the sources add to
whatever report is bound where they run. DataLoader batches and gathered calls run in tasks that
copy the request's context, so they see the same (mutable) report; a call outside any request
(a background revalidation, a test calling a source directly) finds none and records nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Final

__all__ = ["StaleReport", "bind_stale_report", "collect_stale", "current_stale_report", "record_stale"]


class StaleReport:
    """Per (authority, resource): the age in seconds of the oldest stale entry served."""

    __slots__ = ("_ages",)

    def __init__(self) -> None:
        self._ages: dict[tuple[str, str], float] = {}

    def add(self, authority: str, resource: str, age_s: float) -> None:
        key = (authority, resource)
        if age_s > self._ages.get(key, -1.0):
            self._ages[key] = age_s

    def __bool__(self) -> bool:
        return bool(self._ages)

    def as_extension(self) -> list[dict[str, object]]:
        """``[{"authority", "resource", "ageSeconds"}]``, sorted, for ``extensions.stale``."""
        return [
            {"authority": authority, "resource": resource, "ageSeconds": round(age, 3)}
            for (authority, resource), age in sorted(self._ages.items())
        ]


_CURRENT: Final[ContextVar[StaleReport | None]] = ContextVar("customs_gateway_stale_report", default=None)


def current_stale_report() -> StaleReport | None:
    return _CURRENT.get()


def record_stale(authority: str, resource: str, age_s: float) -> None:
    report = _CURRENT.get()
    if report is not None:
        report.add(authority, resource, max(age_s, 0.0))


def bind_stale_report(report: StaleReport) -> None:
    """Bind ``report`` for the rest of the current task (a request handler: its context ends with it)."""
    _CURRENT.set(report)


@contextlib.contextmanager
def collect_stale() -> Iterator[StaleReport]:
    """A fresh report bound for the duration of the block (tests, scripts)."""
    report = StaleReport()
    token = _CURRENT.set(report)
    try:
        yield report
    finally:
        _CURRENT.reset(token)
