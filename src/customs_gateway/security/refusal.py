"""The one shape of a request refused before GraphQL runs (429, 413, 415, a bad body): a GraphQL
response with ``data: null`` and one error whose ``extensions.code`` says why, so clients handle
every refusal the same way."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

__all__ = ["refusal_response"]


def refusal_response(
    status_code: int,
    message: str,
    code: str,
    extensions: dict[str, object] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A GraphQL-shaped error answer for a request refused before the schema saw it."""
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code, **(extensions or {})}}]}
    return JSONResponse(body, status_code=status_code, headers=headers)
