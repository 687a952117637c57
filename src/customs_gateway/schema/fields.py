"""A typed spelling of ``@strawberry.field(description=…)`` for resolvers.

strawberry types that overload as returning ``Any``, which ``mypy --strict`` rejects as an
untyped decorator; this wrapper keeps the resolver's own signature visible to mypy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

import strawberry
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from .access import rule_for, ruled

__all__ = ["resolver", "selects"]

F = TypeVar("F", bound=Callable[..., Any])


def resolver(description: str, *, name: str | None = None) -> Callable[[F], F]:
    """A resolver field. When ``Type.field`` (from the function's qualified name) is in the field
    rules table, the rule is attached here: see ``schema/access.py``."""

    def decorate(fn: F) -> F:
        entry = rule_for(fn.__qualname__)
        if entry is None:
            return cast(F, strawberry.field(description=description, name=name)(fn))
        text, extensions = ruled(entry[0], description)
        return cast(F, strawberry.field(description=text, name=name, extensions=extensions)(fn))

    return decorate


def selects(info: strawberry.Info[Any, Any], *path: str) -> bool:
    """Whether the query asks for the field at ``path`` under the field being resolved (e.g.
    ``"kazakhstan", "arrival"``; through fragments too), so a resolver can start a call in its
    first round only when it will be needed."""

    def found(selections: Iterable[Selection], path: tuple[str, ...]) -> bool:
        for selection in selections:
            if isinstance(selection, SelectedField) and selection.name == path[0]:
                if len(path) == 1 or found(selection.selections, path[1:]):
                    return True
            elif isinstance(selection, FragmentSpread | InlineFragment) and found(selection.selections, path):
                return True
        return False

    return any(found(field.selections, path) for field in info.selected_fields)
