"""strawberry's ASGI view, hardened: what a request carries is checked before the schema sees it.

- the document: its UTF-8 size (before parsing), then persisted operations (allow-list or APQ);
- the body: JSON decoded by orjson (invalid UTF-8 or nesting deeper than 1024 is a clear 400, not
  a recursion error), batches refused unless configured, and then at most ``max_batch``;
- every refusal at the HTTP level is GraphQL-shaped JSON (``errors[0].extensions.code``) with the
  right status, instead of strawberry's plain-text reasons.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from .errors import GatewayError, InvalidInput, LimitExceeded
from .schema.errors import graphql_error
from .security.limits_config import LimitSettings
from .security.persisted import PersistedOperations
from .security.refusal import refusal_response

__all__ = ["GuardedGraphQL", "RefusedRequest"]

_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


class RefusedRequest(HTTPException):
    """An HTTP-level refusal with a GraphQL error code and extensions."""

    def __init__(self, status_code: int, reason: str, code: str, **extensions: object) -> None:
        super().__init__(status_code, reason)
        self.code = code
        self.extensions = extensions


class GuardedGraphQL(GraphQL[Any, None]):
    """The GraphQL endpoint with the request-level limits and persisted operations."""

    def __init__(self, *args: Any, limits: LimitSettings, persisted: PersistedOperations, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = limits
        self._persisted = persisted

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        except RefusedRequest as refused:
            return refusal_response(refused.status_code, refused.reason, refused.code, refused.extensions)
        except HTTPException as error:
            status, reason = error.status_code, error.reason
            if reason == "Unsupported content type":
                status, reason = 415, "unsupported content type: send application/json (or GET with query parameters)"
            return refusal_response(status, reason, _CODES.get(status, "BAD_REQUEST"))

    def decode_json(self, data: str | bytes) -> object:
        # orjson: strict UTF-8 and a nesting limit; its error is a json.JSONDecodeError, which the
        # base view turns into "Unable to parse request body as JSON".
        return orjson.loads(data)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def _validate_batch_request(self, request_data: list[Any], protocol: Any) -> None:
        maximum = self._limits.max_batch
        if maximum == 0:
            raise RefusedRequest(400, "batching is off: send one operation per request (a JSON object)", "BAD_REQUEST")
        if len(request_data) > maximum:
            message = f"batch of {len(request_data)} operations exceeds the limit {maximum}"
            raise RefusedRequest(400, message, LimitExceeded.code, limit="batch", actual=len(request_data), max=maximum)
        if not all(isinstance(item, dict) for item in request_data):
            raise RefusedRequest(400, "each operation of a batch must be a JSON object", "BAD_REQUEST")
        super()._validate_batch_request(request_data, protocol=protocol)

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            query = self._admit(request_data)
        except GatewayError as error:
            return ExecutionResult(data=None, errors=[graphql_error(error)])
        return await super().execute_single(
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=dataclasses.replace(request_data, query=query),
        )

    def _admit(self, request_data: GraphQLRequestData) -> str | None:
        query: object = request_data.query
        if not isinstance(query, str | None) or not isinstance(request_data.variables, dict | None):
            raise InvalidInput("query must be a string and variables an object")
        if query is not None:
            size, maximum = len(query.encode()), self._limits.max_query_bytes
            if size > maximum:
                raise LimitExceeded("querySize", size, maximum, f"query of {size} bytes exceeds the limit {maximum}")
        return self._persisted.resolve(query, request_data.extensions)
