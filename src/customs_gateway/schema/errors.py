"""The one place where gateway errors become GraphQL errors.

``GatewayError.code`` → ``extensions.code``; upstream errors also carry ``extensions.authority``
(and ``retryAfterSeconds`` when the authority said so). Anything else is a bug: masked for the
client as "Internal server error" and logged in full.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

from ..errors import GatewayError, LimitExceeded, UpstreamError, UpstreamUnavailable

__all__ = [
    "MASKED_MESSAGE",
    "VALIDATION_FAILED",
    "GatewayErrorExtensions",
    "error_code",
    "error_extensions",
    "graphql_error",
    "log_error",
    "masking",
    "should_mask",
]

MASKED_MESSAGE = "Internal server error"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"  # the metrics' code of an error about the query itself
logger = logging.getLogger("customs_gateway.schema")


def _original(error: GraphQLError) -> BaseException | None:
    original = error.original_error
    # graphql-core wraps resolver exceptions in a located GraphQLError; unwrap to the cause.
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    return original


def error_extensions(error: GatewayError) -> dict[str, object]:
    extensions: dict[str, object] = {"code": error.code}
    if isinstance(error, LimitExceeded):
        extensions.update(limit=error.limit, actual=error.actual, max=error.maximum)
    if isinstance(error, UpstreamError):
        extensions["authority"] = error.authority.value
        if isinstance(error, UpstreamUnavailable) and error.retry_after_s is not None:
            extensions["retryAfterSeconds"] = error.retry_after_s
    return extensions


def graphql_error(error: GatewayError, nodes: Any = None) -> GraphQLError:
    """A GraphQL error for ``error`` raised outside a resolver (limits, persisted operations), with
    its extensions already set: these errors never pass through a resolver's wrapping."""
    return GraphQLError(error.message, nodes, original_error=error, extensions=error_extensions(error))


def error_code(error: GraphQLError) -> str:
    """The code an error has (or will have once extensions and masking ran), for metrics and logs."""
    given = (error.extensions or {}).get("code")
    if isinstance(given, str):
        return given
    original = _original(error)
    if isinstance(original, GatewayError):
        return original.code
    if original is None or isinstance(original, GraphQLError):
        return VALIDATION_FAILED
    return "INTERNAL_SERVER_ERROR"


def should_mask(error: GraphQLError) -> bool:
    """Mask everything a client should not see: errors from code, not from the query or upstreams."""
    original = _original(error)
    if original is None:
        return False  # syntax / validation errors are about the query itself
    return not isinstance(original, GatewayError | GraphQLError)


class GatewayErrorExtensions(SchemaExtension):
    """Adds ``extensions.code`` (and ``authority``) to every error raised as a GatewayError."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or ():
            original = _original(error)
            if isinstance(original, GatewayError):
                error.extensions = {**(error.extensions or {}), **error_extensions(original)}


def masking() -> MaskErrors:
    return MaskErrors(should_mask_error=should_mask, error_message=MASKED_MESSAGE)


def log_error(error: GraphQLError) -> None:
    original = _original(error)
    if isinstance(original, GatewayError):
        logger.warning("%s at %s: %s", original.code, ".".join(map(str, error.path or ())), original.message)
    elif original is None:
        logger.info("rejected query: %s", error.message)
    else:
        logger.error("unexpected error at %s", ".".join(map(str, error.path or ())), exc_info=original)
