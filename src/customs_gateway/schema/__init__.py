"""The GraphQL schema: one federation-ready schema over both authorities.

``build_schema()`` is pure (no I/O); the app factory serves it and builds a fresh
:class:`GatewayContext` per request (see ``context.build_context``).
"""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.federation import Schema
from strawberry.types import ExecutionContext

from ..security.audit import AuditLog
from .audit import AuditExtension
from .common import CrossingPoint
from .context import GatewayContext, build_context
from .entities import Inspection, Manifest, Vehicle
from .errors import GatewayErrorExtensions, log_error, masking
from .queries import Query

__all__ = ["DEFAULT_DOCUMENT_CACHE_SIZE", "GatewayContext", "GatewaySchema", "build_context", "build_schema"]

DEFAULT_DOCUMENT_CACHE_SIZE = 1024


class GatewaySchema(Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # Expected failures (bad input, an authority down) are warnings; only bugs get a traceback.
        for error in errors:
            log_error(error)


def build_schema(
    *, document_cache_size: int = DEFAULT_DOCUMENT_CACHE_SIZE, audit: AuditLog | None = None
) -> GatewaySchema:
    """The schema with parse/validation caches, error codes, masking of unexpected errors and an
    audit line per operation (``audit``: where to write it; the ``customs_gateway.audit`` logger
    by default)."""
    audit_log = audit or AuditLog()
    return GatewaySchema(
        query=Query,
        types=[Manifest, Vehicle, Inspection, CrossingPoint],
        extensions=[
            lambda: AuditExtension(audit_log),
            lambda: ParserCache(maxsize=document_cache_size),
            lambda: ValidationCache(maxsize=document_cache_size),
            GatewayErrorExtensions,
            masking,
        ],
    )
