"""Query-parameter validation: every failure is a 400 VALIDATION_ERROR naming the parameter.

Unknown parameters are rejected rather than ignored, so a client's typo (``plates=``) fails loudly
instead of silently returning an unfiltered list. Empty values count as absent, because clients
often send a URL template's blanks (``checkpoint=&direction=``).
"""

from __future__ import annotations

import datetime as dt
import math

from starlette.datastructures import QueryParams

from customs_sim.kazakhstan.errors import ApiError

__all__ = ["QueryReader"]


class QueryReader:
    def __init__(self, params: QueryParams, allowed: frozenset[str]) -> None:
        for name in params:
            if name not in allowed:
                raise ApiError.invalid(name)
        self._params = params

    def values(self, name: str) -> list[str]:
        return [v for v in self._params.getlist(name) if v != ""]

    def text(self, name: str) -> str | None:
        values = self.values(name)
        if len(values) > 1:
            raise ApiError.invalid(name)
        return values[0] if values else None

    def choice(self, name: str, allowed: frozenset[str]) -> str | None:
        value = self.text(name)
        if value is not None and value not in allowed:
            raise ApiError.invalid(name)
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        if not value.isascii() or not value.isdigit():
            raise ApiError.invalid(name)
        number = int(value)
        if not low <= number <= high:
            raise ApiError.invalid(name)
        return number

    def instant(self, name: str) -> int | None:
        """An ISO-8601 date-time with an explicit offset, as epoch seconds rounded up.

        Records carry whole seconds, so ``t >= x`` and ``t < x`` equal ``t >= ceil(x)`` and
        ``t < ceil(x)`` for a fractional ``x``.
        """
        value = self.text(name)
        if value is None:
            return None
        if "T" not in value:
            raise ApiError.invalid(name)  # a bare date has no offset
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise ApiError.invalid(name) from exc
        if parsed.tzinfo is None:
            raise ApiError.invalid(name)
        return math.ceil(parsed.timestamp())

    def date(self, name: str) -> dt.date | None:
        value = self.text(name)
        if value is None:
            return None
        if len(value) != 10:
            raise ApiError.invalid(name)  # fromisoformat() would also take 20240301
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ApiError.invalid(name) from exc

    def window(self) -> tuple[int | None, int | None]:
        since, until = self.instant("from"), self.instant("to")
        if since is not None and until is not None and until < since:
            raise ApiError.invalid("to")
        return since, until

    def keys(self, name: str, most: int) -> list[str]:
        values = self.values(name)
        if not 1 <= len(values) <= most:
            raise ApiError.invalid(name)
        return values
