"""The audit extension: one audit line per GraphQL operation (see ``security.audit``)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from ..errors import GatewayError
from ..security import principal_of
from ..security.audit import AuditLog, track_authorities

__all__ = ["AuditExtension"]


def _code(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    original = error.original_error
    if isinstance(original, GatewayError):
        return original.code
    return "GRAPHQL_VALIDATION_FAILED" if original is None else "INTERNAL_SERVER_ERROR"


class AuditExtension(SchemaExtension):
    """Outermost of the schema's extensions, so the codes it reads are the final ones."""

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        with track_authorities() as called:
            yield
        ctx = self.execution_context
        result = ctx.result
        errors = list(getattr(result, "errors", None) or ()) or list(ctx.pre_execution_errors or ())
        context = ctx.context
        request = getattr(context, "request", None)
        name = ctx.operation_name
        self._audit.operation(
            principal_of(request),
            operation_name=name,
            document=ctx.query,
            variables=ctx.variables,
            authorities=called,
            error_codes=[_code(e) for e in errors],
            has_data=getattr(result, "data", None) is not None,
            duration_s=time.perf_counter() - started,
        )
