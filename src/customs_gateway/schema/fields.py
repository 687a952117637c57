"""A typed spelling of ``@strawberry.field(description=…)`` for resolvers.

strawberry types that overload as returning ``Any``, which ``mypy --strict`` rejects as an
untyped decorator; this wrapper keeps the resolver's own signature visible to mypy.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeAlias, TypeVar, Union, cast

import strawberry
from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode, SelectionNode

from ..services import Lazy
from .access import rule_for, ruled

__all__ = ["MaybeAwaitable", "now_or_later", "resolver", "selects"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
R = TypeVar("R")

MaybeAwaitable: TypeAlias = Union[T, Awaitable[T]]  # noqa: UP007  # a generic alias needs Union
"""What a plain resolver declared with ``graphql_type`` returns: the value, or an awaitable of it."""


def resolver(description: str, *, name: str | None = None, graphql_type: Any = None) -> Callable[[F], F]:
    """A resolver field. When ``Type.field`` (from the function's qualified name) is in the field
    rules table, the rule is attached here: see ``schema/access.py``.

    ``graphql_type``: the field's GraphQL type, for a plain ``def`` resolver that answers at once
    when its value is known and returns an awaitable otherwise (see :func:`now_or_later`).
    """

    def decorate(fn: F) -> F:
        entry = rule_for(fn.__qualname__)
        if entry is None:
            return cast(F, strawberry.field(description=description, name=name, graphql_type=graphql_type)(fn))
        text, extensions = ruled(entry[0], description)
        field = strawberry.field(description=text, name=name, extensions=extensions, graphql_type=graphql_type)
        return cast(F, field(fn))

    return decorate


def now_or_later(lazy: Lazy[T], then: Callable[[T], R]) -> MaybeAwaitable[R]:
    """``then(value)`` at once when ``lazy`` already holds its value, else an awaitable of it.

    Why: once upstream answers come from the cache, most of a warm request's CPU is GraphQL
    execution, and every ``async def`` resolver costs a coroutine plus a task in graphql-core's
    gather, even when its value is already at hand (a trip's records found by the list call).
    graphql-core awaits what a plain resolver returns only when it is awaitable.
    """
    if lazy.known:
        return then(cast(T, lazy.peek()))

    async def later() -> R:
        return then(await lazy.get())

    return later()


def selects(info: strawberry.Info[Any, Any], *path: str) -> bool:
    """Whether the query asks for the field at ``path`` under the field being resolved (e.g.
    ``"kazakhstan", "arrival"``; through fragments too), so a resolver can start a call in its
    first round only when it will be needed.

    Walks the parsed document itself (graphql-core's nodes, what ``info.selected_fields`` is
    converted from): the conversion builds the whole selected subtree, ~50 objects for one
    manifest, before the resolver may start its first upstream call.
    """
    raw = info._raw_info
    fragments: dict[str, FragmentDefinitionNode] = raw.fragments

    def found(selections: Iterable[SelectionNode], path: tuple[str, ...]) -> bool:
        for selection in selections:
            if isinstance(selection, FieldNode):
                if selection.name.value == path[0] and (
                    len(path) == 1
                    or (selection.selection_set is not None and found(selection.selection_set.selections, path[1:]))
                ):
                    return True
            elif isinstance(selection, InlineFragmentNode):
                if found(selection.selection_set.selections, path):
                    return True
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None and found(fragment.selection_set.selections, path):
                    return True
        return False

    return any(
        node.selection_set is not None and found(node.selection_set.selections, path) for node in raw.field_nodes
    )
