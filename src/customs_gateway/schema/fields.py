"""A typed spelling of ``@strawberry.field(description=…)`` for resolvers.

strawberry types that overload as returning ``Any``, which ``mypy --strict`` rejects as an
untyped decorator; this wrapper keeps the resolver's own signature visible to mypy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

import strawberry
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

__all__ = ["resolver", "selects"]

F = TypeVar("F", bound=Callable[..., Any])


def resolver(description: str, *, name: str | None = None) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        return cast(F, strawberry.field(description=description, name=name)(fn))

    return decorate


def selects(info: strawberry.Info[Any, Any], name: str) -> bool:
    """Whether the query asks for field ``name`` directly under the field being resolved
    (through fragments too), so a resolver can start a call in its first round only when needed."""

    def found(selections: Iterable[Selection]) -> bool:
        for selection in selections:
            if isinstance(selection, SelectedField) and selection.name == name:
                return True
            if isinstance(selection, FragmentSpread | InlineFragment) and found(selection.selections):
                return True
        return False

    return any(found(field.selections) for field in info.selected_fields)
