"""Plain resolver functions for the schema's argument-free resolver fields.

strawberry wraps every field that has a resolver in the same general machinery: a strawberry
``Info`` built for it, the GraphQL arguments converted (there are none here), a chain of field
extensions folded with ``functools.reduce`` (there are none either), then the resolver. Most of
a manifest's fields are such resolvers (a trip's status, its goods, a money amount in USD...), and
that machinery cost several times what graphql-core itself spends on a field: on a cold
``manifest(id:)`` it ran after the last upstream answer, on the request's critical path, and it
was the bulk of a warm dashboard's CPU.

:func:`install_lean_resolvers` replaces the graphql-core ``resolve`` of exactly those fields (no
GraphQL arguments; a method resolver without ``root``/``parent`` parameter, or a plain attribute;
no field extension but field rules) with a function that does what strawberry's path would: the
field rules checked first (:class:`~.access.FieldRuleExtension`, with the same strawberry
``Info``), then the resolver called with the source as ``self`` and an ``Info`` only when it
asks for one, or the attribute read. Everything else keeps strawberry's own path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from .access import FieldRuleExtension

__all__ = ["install_lean_resolvers"]

Resolve = Callable[..., Any]


def _lean(field: StrawberryField, info_class: type[Any]) -> Resolve | None:
    rules = [e for e in field.extensions if isinstance(e, FieldRuleExtension)]
    if field.arguments or len(rules) != len(field.extensions):
        return None
    resolver = field.base_resolver
    if resolver is None:
        if not rules:
            return None  # a basic field: strawberry already resolves it without its machinery
        read = field.default_resolver
        name = field.python_name

        def resolve_attribute(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
            checked = info_class(_raw_info=info, _field=field)
            for rule in rules:
                rule.check(source, checked)
            return read(source, name)

        return resolve_attribute
    if resolver.parent_parameter is not None or resolver.root_parameter is not None:
        return None
    function = resolver.wrapped_func
    if not callable(function):
        return None
    info_parameter = resolver.info_parameter
    if resolver.self_parameter is None or (info_parameter is not None and info_parameter.name != "info"):
        return None  # not a method of the type, or info under another name: strawberry's path
    if info_parameter is None and not rules:

        def resolve_plain(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
            return function(source)

        return resolve_plain
    wants_info = info_parameter is not None

    def resolve_with_info(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
        strawberry_info = info_class(_raw_info=info, _field=field)
        for rule in rules:
            rule.check(source, strawberry_info)
        return function(source, info=strawberry_info) if wants_info else function(source)

    return resolve_with_info


def install_lean_resolvers(schema: Any) -> int:
    """Give ``schema``'s argument-free resolver fields a plain resolve function; how many."""
    info_class: type[Any] = schema.config.info_class
    count = 0
    for named in schema._schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for graphql_field in named.fields.values():
            field = (graphql_field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if not isinstance(field, StrawberryField):
                continue
            lean = _lean(field, info_class)
            if lean is not None:
                graphql_field.resolve = lean
                count += 1
    return count
