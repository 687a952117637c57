"""Cost estimates remembered per operation and the variables they depend on.

A dashboard sends the same document request after request; only its variables change, and the
estimate (:func:`~.complexity.estimate_cost`) reads few of them: those inside a page argument
(``first``) or ``_entities``' ``representations``. Walking the whole selection again on every
request cost more than parsing and validating it (both cached), before the first resolver could
start. The key here is the document's text, the operation's name and what the estimate reads of
those variables (an int as itself, a list by its length, anything else by its type), so two
requests share an estimate exactly when the walker would compute the same one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    Node,
    OperationDefinitionNode,
    VariableNode,
)

from .complexity import CostEstimate, CostModel, estimate_cost

__all__ = ["CostCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_REPRESENTATIONS = "representations"


def _variables_in(node: Node, found: set[str]) -> None:
    if isinstance(node, VariableNode):
        found.add(node.name.value)
        return
    for key in node.keys:
        value = getattr(node, key, None)
        if isinstance(value, Node):
            _variables_in(value, found)
        elif isinstance(value, tuple | list):
            for item in value:
                if isinstance(item, Node):
                    _variables_in(item, found)


def _read_variables(document: DocumentNode, page_argument: str) -> frozenset[str]:
    """Names of the variables used anywhere inside a page or representations argument (every
    operation and fragment of the document: a superset of what one operation's estimate reads)."""
    found: set[str] = set()
    stack: list[Node] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, FieldNode):
            for argument in node.arguments or ():
                if argument.name.value in (page_argument, _REPRESENTATIONS):
                    _variables_in(argument.value, found)
        for key in node.keys:
            value = getattr(node, key, None)
            if isinstance(value, Node):
                stack.append(value)
            elif isinstance(value, tuple | list):
                stack.extend(item for item in value if isinstance(item, Node))
    return frozenset(found)


def _frozen(value: Any) -> Hashable:
    """What the walker can learn from a variable: an int's value, a list's length, else its type."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, list):
        return ("list", len(value))
    return type(value).__name__


class CostCache:
    """Bounded (LRU) memo of :func:`~.complexity.estimate_cost` for one schema and cost model."""

    def __init__(self, model: CostModel, maxsize: int = 1024) -> None:
        self._model = model
        self._maxsize = maxsize
        self._reads: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._estimates: OrderedDict[tuple[str, str | None, tuple[tuple[str, Hashable], ...]], CostEstimate] = (
            OrderedDict()
        )

    def estimate(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None,
        text: str | None,
    ) -> CostEstimate:
        """The estimate for ``operation`` of ``document`` (whose source is ``text``; without it
        nothing is remembered) with ``variables``."""
        if text is None:
            return estimate_cost(schema, document, operation, variables, self._model)
        reads = self._remember(self._reads, text, lambda: _read_variables(document, self._model.page_argument))
        given = variables or {}
        read = tuple(sorted((name, _frozen(given[name])) for name in reads if name in given))
        key = (text, operation.name.value if operation.name else None, read)
        return self._remember(
            self._estimates, key, lambda: estimate_cost(schema, document, operation, variables, self._model)
        )

    def _remember(self, table: OrderedDict[K, V], key: K, compute: Callable[[], V]) -> V:
        found = table.get(key)
        if found is not None:
            table.move_to_end(key)
            return found
        value = compute()
        table[key] = value
        if len(table) > self._maxsize:
            table.popitem(last=False)
        return value
