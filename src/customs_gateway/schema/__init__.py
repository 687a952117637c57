"""The GraphQL schema: one federation-ready schema over both authorities.

``build_schema()`` is pure (no I/O); the app factory serves it and builds a fresh
:class:`GatewayContext` per request (see ``context.build_context``).
"""

from __future__ import annotations

from collections.abc import Callable

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.federation import Schema
from strawberry.schema.config import BatchingConfig, StrawberryConfig
from strawberry.types import ExecutionContext

from ..security.audit import AuditLog
from ..security.config import SecuritySettings
from ..security.cost_cache import CostCache
from .audit import AuditExtension
from .common import CrossingPoint
from .context import GatewayContext, build_context
from .entities import Inspection, Manifest, Vehicle
from .errors import GatewayErrorExtensions, log_error, masking
from .lean import install_lean_resolvers
from .limits import OperationLimits, TokenLimitedParserCache, cost_model, limit_rules, role_budget
from .queries import Query
from .validation import ValidationVerdicts, VerdictCache

__all__ = ["DEFAULT_DOCUMENT_CACHE_SIZE", "GatewayContext", "GatewaySchema", "build_context", "build_schema"]

DEFAULT_DOCUMENT_CACHE_SIZE = 1024


class GatewaySchema(Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # Expected failures (bad input, an authority down) are warnings; only bugs get a traceback.
        for error in errors:
            log_error(error)


def build_schema(
    *,
    document_cache_size: int = DEFAULT_DOCUMENT_CACHE_SIZE,
    audit: AuditLog | None = None,
    security: SecuritySettings | None = None,
    observer: Callable[[], SchemaExtension] | None = None,
) -> GatewaySchema:
    """The schema with parse/validation caches, operation limits (``security.limits``, budgets of
    ``security.roles``, ``security.introspection``), error codes, masking of unexpected errors and
    an audit line per operation (``audit``: where to write it; the ``customs_gateway.audit`` logger
    by default).

    The parser cache applies the token limit; the other limits come right after the validation
    cache: the cost check reads the cached verdict and runs only for valid operations.

    ``observer`` (see :func:`.observe.operation_observer`) runs each operation under its deadline
    and records it; it comes last so it sees errors before they are masked.
    """
    audit_log = audit or AuditLog()
    security = security or SecuritySettings()
    limits = security.limits
    rules = limit_rules(limits, introspection=security.introspection)
    costs, budget_of = CostCache(cost_model(limits), document_cache_size), role_budget(security)
    verdicts = ValidationVerdicts(document_cache_size)

    def operation_limits() -> SchemaExtension:
        return OperationLimits(limits, rules, budget_of, costs)

    batching = BatchingConfig(max_operations=limits.max_batch) if limits.max_batch > 0 else None
    schema = GatewaySchema(
        query=Query,
        types=[Manifest, Vehicle, Inspection, CrossingPoint],
        extensions=[
            lambda: AuditExtension(audit_log),
            lambda: TokenLimitedParserCache(document_cache_size, limits.max_tokens),
            lambda: VerdictCache(verdicts),
            operation_limits,
            GatewayErrorExtensions,
            masking,
            *([observer] if observer is not None else []),
        ],
        config=StrawberryConfig(batching_config=batching),
    )
    install_lean_resolvers(schema)
    return schema
