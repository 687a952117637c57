"""How big an operation is: its depth, its aliases and an estimate of its cost, from the parsed
document alone, so an operation over a limit is refused before any resolver (and so before any
upstream call) runs.

Pure functions over graphql-core's AST and schema; fragments are expanded by memoizing each
fragment once (a document cannot multiply work by spreading a fragment many times) and a fragment
being expanded counts as empty where it is spread again, so a fragment cycle terminates (graphql's
own ``NoFragmentCycles`` rule refuses it anyway). Introspection (``__schema``, ``__type``) is left to
graphql-core's ``MaxIntrospectionDepthRule``: it runs locally and GraphiQL's own introspection query
is deeper than any data query needs to be.

The cost of a field is the weight of its call (what ``weights`` says for an upstream-calling field,
else nothing) plus, for each object it returns, ``object_cost`` and its children's cost. The objects
it returns: ``first`` for a paged field (and for the ``edges``/``nodes`` of the connection it
returns), the number of representations for ``_entities``, the configured list size for other
lists, one otherwise. A leaf costs its weight (normally nothing). The figure is an
estimate of work, not of time: what matters is that a query that fans out to thousands of upstream
records costs thousands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    value_from_ast_untyped,
)

__all__ = [
    "INTROSPECTION_FIELDS",
    "CostEstimate",
    "CostModel",
    "OperationShape",
    "estimate_cost",
    "operation_shapes",
]

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
_ENTITIES = "_entities"
_REPRESENTATIONS = "representations"
_CONNECTION_LISTS = frozenset({"edges", "nodes"})


@dataclass(frozen=True, slots=True)
class OperationShape:
    """The static size of one operation: deepest selection and aliased fields, fragments expanded."""

    name: str | None
    depth: int
    aliases: int


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


class _ShapeWalker:
    """Depth and aliases of selection sets; each fragment is measured once."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
        self._memo: dict[str, tuple[int, int]] = {}
        self._open: set[str] = set()

    def measure(self, selection_set: SelectionSetNode | None) -> tuple[int, int]:
        """(depth below this selection set, aliases in it)."""
        if selection_set is None:
            return 0, 0
        depth = aliases = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                aliases += selection.alias is not None
                if selection.name.value in INTROSPECTION_FIELDS:
                    depth = max(depth, 1)
                    continue
                below, inner = self.measure(selection.selection_set)
                depth, aliases = max(depth, below + 1), aliases + inner
            elif isinstance(selection, InlineFragmentNode):
                below, inner = self.measure(selection.selection_set)
                depth, aliases = max(depth, below), aliases + inner
            elif isinstance(selection, FragmentSpreadNode):
                below, inner = self._fragment(selection.name.value)
                depth, aliases = max(depth, below), aliases + inner
        return depth, aliases

    def _fragment(self, name: str) -> tuple[int, int]:
        if name in self._memo:
            return self._memo[name]
        fragment = self._fragments.get(name)
        if fragment is None or name in self._open:
            return 0, 0  # unknown (validation reports it) or a cycle (NoFragmentCycles reports it)
        self._open.add(name)
        try:
            result = self.measure(fragment.selection_set)
        finally:
            self._open.discard(name)
        self._memo[name] = result
        return result


def operation_shapes(document: DocumentNode) -> list[OperationShape]:
    """The shape of every operation of ``document``."""
    walker = _ShapeWalker(_fragments(document))
    shapes = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            depth, aliases = walker.measure(definition.selection_set)
            shapes.append(OperationShape(definition.name.value if definition.name else None, depth, aliases))
    return shapes


@dataclass(frozen=True, slots=True)
class CostModel:
    """How fields are weighed. Keys are ``Type.field``."""

    weights: Mapping[str, int] = field(default_factory=dict)
    list_sizes: Mapping[str, int] = field(default_factory=dict)
    default_list_size: int = 10
    object_cost: int = 1
    page_argument: str = "first"


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """The estimated cost, and the largest page any field asks for (and which field)."""

    cost: int
    largest_page: int = 0
    page_field: str | None = None


def _unwrap(type_: GraphQLOutputType) -> tuple[GraphQLNamedType, bool]:
    """The named type and whether a list lies between it and the field."""
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return get_named_type(type_), is_list


def _is_connection(type_: GraphQLNamedType) -> bool:
    return isinstance(type_, GraphQLObjectType) and "edges" in type_.fields and "pageInfo" in type_.fields


class _CostWalker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        model: CostModel,
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = variables
        self._model = model
        self._memo: dict[tuple[str, str, int | None], int] = {}
        self._open: set[str] = set()
        self.largest_page = 0
        self.page_field: str | None = None

    def cost(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, page: int | None) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self._schema.get_type(condition.name.value) if condition is not None else parent
                total += self.cost(selection.selection_set, target or parent, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._spread(selection.name.value, parent, page)
        return total

    def _spread(self, name: str, parent: GraphQLNamedType, page: int | None) -> int:
        fragment = self._fragments.get(name)
        if fragment is None or name in self._open:
            return 0
        target = self._schema.get_type(fragment.type_condition.name.value) or parent
        key = (name, target.name, page)
        if key not in self._memo:
            self._open.add(name)
            try:
                self._memo[key] = self.cost(fragment.selection_set, target, page)
            finally:
                self._open.discard(name)
        return self._memo[key]

    def _field(self, node: FieldNode, parent: GraphQLNamedType, page: int | None) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0  # __typename, introspection (bounded by its own rule), or unknown (validation)
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        key = f"{parent.name}.{name}"
        named, is_list = _unwrap(definition.type)
        composite = isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
        weight = self._model.weights.get(key, 0)
        first = self._page(node, definition.args, key)
        if not composite:
            return weight
        if name == _ENTITIES:
            items = self._count(node, _REPRESENTATIONS)
        elif is_list and page is not None and name in _CONNECTION_LISTS:
            items = page
        elif is_list:
            items = first if first is not None else self._model.list_sizes.get(key, self._model.default_list_size)
        else:
            items = 1
        child_page = first if _is_connection(named) else None
        each = self._model.object_cost + self.cost(node.selection_set, named, child_page)
        return weight + max(items, 0) * each

    def _argument(self, node: FieldNode, name: str) -> tuple[bool, Any]:
        for argument in node.arguments or ():
            if argument.name.value == name:
                return True, value_from_ast_untyped(argument.value, self._variables)
        return False, None

    def _page(self, node: FieldNode, args: Mapping[str, Any], key: str) -> int | None:
        page_arg = self._model.page_argument
        if page_arg not in args:
            return None
        given, value = self._argument(node, page_arg)
        if not given:
            value = args[page_arg].default_value
        if not isinstance(value, int) or isinstance(value, bool):
            return None  # not an int: variable coercion refuses it before anything runs
        if value > self.largest_page:
            self.largest_page, self.page_field = value, key
        return value

    def _count(self, node: FieldNode, argument: str) -> int:
        _, value = self._argument(node, argument)
        return len(value) if isinstance(value, list) else 1


def estimate_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    model: CostModel,
) -> CostEstimate:
    """The estimated cost of ``operation`` (a query) with ``variables``; defaults of the operation's
    variables apply where a variable is not given."""
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        if definition.default_value is not None:
            values[definition.variable.name.value] = value_from_ast_untyped(definition.default_value)
    values.update(variables or {})
    root = schema.get_root_type(operation.operation)
    if root is None:
        return CostEstimate(0)
    walker = _CostWalker(schema, _fragments(document), values, model)
    cost = walker.cost(operation.selection_set, root, None)
    return CostEstimate(cost, walker.largest_page, walker.page_field)
