"""A typed spelling of ``@strawberry.field(description=…)`` for resolvers.

strawberry types that overload as returning ``Any``, which ``mypy --strict`` rejects as an
untyped decorator; this wrapper keeps the resolver's own signature visible to mypy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import strawberry

__all__ = ["resolver"]

F = TypeVar("F", bound=Callable[..., Any])


def resolver(description: str, *, name: str | None = None) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        return cast(F, strawberry.field(description=description, name=name)(fn))

    return decorate
