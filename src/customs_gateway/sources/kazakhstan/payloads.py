"""Typed reading of one KGD XML record: each field parsed or rejected with its name and record.

A :class:`Reader` wraps one element and knows where it sits ("PreliminaryInformation #3
(55201011-281125-0001234)"), so every missing or malformed field becomes an
:class:`~customs_gateway.errors.UpstreamContract` that says which field of which record broke
the contract. The normalizers' ``ValueError`` is translated here, nowhere else.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TypeVar

from ...domain import Authority
from ...errors import UpstreamContract
from ...money import parse_amount, parse_minor
from ...timeutil import parse_kz_time
from . import xml

__all__ = ["Reader"]

T = TypeVar("T")

_UNSIGNED = re.compile(r"[0-9]{1,9}")
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


class Reader:
    """Field access on one element, failing with the field's and the record's name."""

    __slots__ = ("el", "where")

    def __init__(self, el: xml.Element, where: str) -> None:
        self.el = el
        self.where = where

    def fail(self, name: str, problem: str) -> UpstreamContract:
        return UpstreamContract(Authority.KGD, f"{self.where}: field {name}: {problem}")

    # -- text -------------------------------------------------------------------------------

    def opt_text(self, name: str) -> str | None:
        return xml.child_text(self.el, name)

    def text(self, name: str) -> str:
        value = xml.child_text(self.el, name)
        if value is None:
            raise self.fail(name, "missing or empty")
        return value

    def texts(self, name: str, item: str) -> tuple[str, ...]:
        """The texts of ``<name><item>…</item>…</name>``; empty when ``name`` is absent."""
        outer = xml.child(self.el, name)
        if outer is None:
            return ()
        values = []
        for index, el in enumerate(xml.children(outer, item), start=1):
            text = (el.text or "").strip()
            if not text:
                raise self.fail(f"{name}/{item}[{index}]", "empty")
            values.append(text)
        return tuple(values)

    def attr(self, name: str) -> str:
        value = (self.el.get(name) or "").strip()
        if not value:
            raise self.fail(f"@{name}", "missing or empty attribute")
        return value

    # -- nested elements ------------------------------------------------------------------------

    def sub(self, name: str) -> Reader:
        found = xml.child(self.el, name)
        if found is None:
            raise self.fail(name, "missing element")
        return Reader(found, f"{self.where}/{name}")

    def opt_sub(self, name: str) -> Reader | None:
        found = xml.child(self.el, name)
        return None if found is None else Reader(found, f"{self.where}/{name}")

    # -- typed values ---------------------------------------------------------------------------

    def _parsed(self, name: str, text: str, parse: Callable[[str], T], what: str) -> T:
        try:
            return parse(text)
        except (ValueError, ArithmeticError) as exc:
            raise self.fail(name, f"not {what}: {text[:40]!r}") from exc

    def amount(self, name: str, places: int) -> Decimal:
        return self._parsed(name, self.text(name), lambda t: parse_amount(t, places), "a decimal")

    def minor(self, name: str, places: int) -> int:
        """:meth:`amount` in minor units (``10**places`` per unit), as an exact integer."""
        return self._parsed(name, self.text(name), lambda t: parse_minor(t, places), "a decimal")

    def opt_amount(self, name: str, places: int) -> Decimal | None:
        text = self.opt_text(name)
        return (
            None if text is None else self._parsed(name, text, lambda t: parse_amount(t, places), "a decimal")
        )

    def count(self, name: str, text: str | None = None) -> int:
        """A non-negative integer (package counts, line numbers, quants)."""
        value = self.text(name) if text is None else text
        if not _UNSIGNED.fullmatch(value):
            raise self.fail(name, f"not a non-negative integer: {value[:40]!r}")
        return int(value)

    def moment(self, name: str) -> dt.datetime:
        return self._parsed(name, self.text(name), parse_kz_time, "an ISO-8601 time with offset")

    def opt_moment(self, name: str) -> dt.datetime | None:
        text = self.opt_text(name)
        return (
            None if text is None else self._parsed(name, text, parse_kz_time, "an ISO-8601 time with offset")
        )

    def day(self, name: str, text: str | None = None) -> dt.date:
        value = self.text(name) if text is None else text
        return self._parsed(name, value, _iso_date, "a YYYY-MM-DD date")

    def clock(self, name: str) -> dt.time | None:
        text = self.opt_text(name)
        if text is None:
            return None
        match = _CLOCK.fullmatch(text)
        if match is None:
            raise self.fail(name, f"not a HH:MM time: {text[:40]!r}")
        return dt.time(int(match[1]), int(match[2]))

    def flag(self, name: str) -> bool:
        text = self.text(name)
        if text not in ("true", "false", "1", "0"):
            raise self.fail(name, f"not a boolean: {text[:40]!r}")
        return text in ("true", "1")

    def choice(self, name: str, mapping: Mapping[str, T]) -> T:
        text = self.text(name)
        try:
            return mapping[text]
        except KeyError:
            raise self.fail(name, f"unknown value {text[:40]!r}") from None

    def opt_choice(self, name: str, mapping: Mapping[str, T]) -> T | None:
        return None if self.opt_text(name) is None else self.choice(name, mapping)


def _iso_date(text: str) -> dt.date:
    if len(text) != 10:
        raise ValueError(text)
    return dt.date.fromisoformat(text)
