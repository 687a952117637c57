"""Plain resolver functions for the schema's argument-free resolver fields.

strawberry wraps every field that has a resolver in the same general machinery: a strawberry
``Info`` built for it, the GraphQL arguments converted (there are none here), a chain of field
extensions folded with ``functools.reduce`` (there are none either), then the resolver. Most of
a manifest's fields are such resolvers (a trip's status, its goods, a money amount in USD...), and
that machinery cost several times what graphql-core itself spends on a field: on a cold
``manifest(id:)`` it ran after the last upstream answer, on the request's critical path, and it
was the bulk of a warm dashboard's CPU.

:func:`install_lean_resolvers` replaces the graphql-core ``resolve`` of exactly those fields (a
resolver, no GraphQL arguments, no field extensions — so no field rule —, no ``root``/``parent``
parameter) with a function that calls the resolver the way strawberry would: the source as
``self``, a strawberry ``Info`` only when the resolver asks for one. Everything else keeps
strawberry's own path, field rules included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

__all__ = ["install_lean_resolvers"]

Resolve = Callable[..., Any]


def _lean(field: StrawberryField, info_class: type[Any]) -> Resolve | None:
    resolver = field.base_resolver
    if resolver is None or field.extensions or field.arguments:
        return None
    if resolver.parent_parameter is not None or resolver.root_parameter is not None:
        return None
    function = resolver.wrapped_func
    if not callable(function):
        return None
    info_parameter = resolver.info_parameter
    if resolver.self_parameter is None or (info_parameter is not None and info_parameter.name != "info"):
        return None  # not a method of the type, or info under another name: strawberry's path
    if info_parameter is None:

        def resolve_plain(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
            return function(source)

        return resolve_plain

    def resolve_with_info(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
        return function(source, info=info_class(_raw_info=info, _field=field))

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
