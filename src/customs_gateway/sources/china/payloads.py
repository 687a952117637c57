"""Checked reading of GACC wire records: every field access says what it expects.

The records arrive as untyped JSON. :class:`WireObject` wraps one JSON object and reads fields
with their expected type; a missing field, a wrong type or a value that does not parse raises
:class:`UpstreamContract` naming the record (``manifest 9403E2025112800123``) and the field path
(``goods[2].grossWt``), so a broken answer is diagnosable from the error alone. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from ...domain import Authority
from ...errors import UpstreamContract

__all__ = ["BatchResult", "PageData", "WireObject", "contract_error", "read_batch", "read_list", "read_page"]

T = TypeVar("T")
_MISSING = object()


def contract_error(where: str, problem: str) -> UpstreamContract:
    return UpstreamContract(Authority.GACC, f"{where}: {problem}")


def _describe(value: object) -> str:
    return "null" if value is None else type(value).__name__


class WireObject:
    """One JSON object of a record, read field by field with type checks.

    ``record`` names the record for error messages; ``path`` is where this object sits in it.
    """

    __slots__ = ("_data", "path", "record")

    def __init__(self, data: object, record: str, path: str = "") -> None:
        if not isinstance(data, dict):
            where = f"{record} field {path}" if path else record
            raise contract_error(where, f"expected an object, got {_describe(data)}")
        self._data: dict[str, object] = data
        self.record = record
        self.path = path

    def _where(self, field: str) -> str:
        return f"{self.record} field {self.path}{'.' if self.path else ''}{field}"

    def _get(self, field: str, optional: bool) -> object:
        value = self._data.get(field, _MISSING)
        if value is _MISSING or (value is None and not optional):
            raise contract_error(self._where(field), "missing")
        return value

    def fail(self, field: str, problem: str) -> UpstreamContract:
        return contract_error(self._where(field), problem)

    def text(self, field: str) -> str:
        """A required, non-empty string."""
        value = self._get(field, optional=False)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, f"expected a non-empty string, got {_describe(value)}")
        return value

    def opt_text(self, field: str) -> str | None:
        """A string that may be absent, null or empty (all read as None)."""
        value = self._data.get(field)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.fail(field, f"expected a string or null, got {_describe(value)}")
        return value

    def count(self, field: str) -> int:
        value = self._get(field, optional=False)
        # bool is an int in Python but never a count on the wire
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(field, f"expected a non-negative integer, got {_describe(value)}")
        return value

    def flag(self, field: str) -> bool:
        """A JSON boolean; absent or null reads as False (the claim was not made)."""
        value = self._data.get(field)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.fail(field, f"expected a boolean, got {_describe(value)}")
        return value

    def obj(self, field: str) -> WireObject:
        return WireObject(self._get(field, optional=False), self.record, self._child(field))

    def opt_obj(self, field: str) -> WireObject | None:
        value = self._data.get(field)
        return None if value is None else WireObject(value, self.record, self._child(field))

    def objs(self, field: str) -> Iterator[WireObject]:
        for index, item in enumerate(self.items(field)):
            yield WireObject(item, self.record, f"{self._child(field)}[{index}]")

    def texts(self, field: str) -> tuple[str, ...]:
        """A list of strings; an absent or null list reads as empty."""
        if self._data.get(field) is None:
            return ()
        items = self.items(field)
        if not all(isinstance(item, str) for item in items):
            raise self.fail(field, "expected a list of strings")
        return tuple(item for item in items if isinstance(item, str))

    def parsed(self, field: str, parse: Callable[[str], T]) -> T:
        """A required string turned into a value by ``parse``; its ValueError becomes a contract error."""
        text = self.text(field)
        try:
            return parse(text)
        except ValueError as exc:
            raise self.fail(field, f"cannot read {text[:40]!r}") from exc

    def opt_parsed(self, field: str, parse: Callable[[str], T]) -> T | None:
        text = self.opt_text(field)
        if text is None:
            return None
        try:
            return parse(text)
        except ValueError as exc:
            raise self.fail(field, f"cannot read {text[:40]!r}") from exc

    def items(self, field: str) -> list[object]:
        value = self._get(field, optional=False)
        if not isinstance(value, list):
            raise self.fail(field, f"expected a list, got {_describe(value)}")
        return value

    def _child(self, field: str) -> str:
        return f"{self.path}.{field}" if self.path else field


@dataclass(frozen=True, slots=True)
class PageData:
    """``data`` of a paged answer: the raw records and the upstream's total."""

    items: list[object]
    total: int


@dataclass(frozen=True, slots=True)
class BatchResult:
    """``data`` of a batch query: raw records and the keys the authority does not know."""

    items: list[object]
    not_found: frozenset[str]


def read_list(data: object, what: str) -> list[object]:
    """``data.list`` of an unpaged list answer (ports)."""
    return WireObject(data, what).items("list")


def read_page(data: object, what: str) -> PageData:
    wire = WireObject(data, what)
    return PageData(items=wire.items("list"), total=wire.count("total"))


def read_batch(data: object, what: str) -> BatchResult:
    wire = WireObject(data, what)
    return BatchResult(items=wire.items("list"), not_found=frozenset(wire.texts("notFound")))
