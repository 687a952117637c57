"""The authentication middleware: every request but the public paths carries a Principal, or gets 401.

Pure ASGI (no ``BaseHTTPMiddleware``), first in the stack after the request id, so nothing
behind it (rate limits, operation limits, GraphQL) runs for an unauthenticated request. The
Principal goes on ``request.state.principal`` (``scope["state"]``), where ``principal_of`` finds it.

An address that presented too many refused credentials within a minute
(``[security.rate_limit] failed_auth_per_minute``) gets 429 with ``Retry-After`` for anything it
presents, right credentials included, until the window has room again: so a guess that happens to
be right teaches a key guesser nothing while it is locked out.

Two things pass without credentials: the public paths (health, metrics: no trip data), and the
GraphiQL page itself (``GET`` on the GraphQL path without a ``query`` parameter: strawberry only
renders the page for it, it never executes anything), so a browser can open the IDE and send its
queries with a key set in the IDE's headers.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import Unauthenticated
from .audit import AuditLog
from .authn import Authenticator
from .rate_limit import ClientRateLimiter
from .refusal import refusal_response

__all__ = ["REALM", "AuthenticationMiddleware", "unauthenticated_body"]

REALM = "customs-gateway"


def unauthenticated_body(message: str) -> bytes:
    """A GraphQL-shaped error, so GraphQL clients show it like any other error."""
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": Unauthenticated.code}}]})


def _challenges(error: Unauthenticated, api_key_header: str) -> list[tuple[bytes, bytes]]:
    bearer = f'Bearer realm="{REALM}"'
    if error.challenge is not None:
        bearer += f', error="{error.challenge}"'
    return [
        (b"www-authenticate", bearer.encode("latin-1")),
        (b"www-authenticate", f'ApiKey realm="{REALM}", header="{api_key_header}"'.encode("latin-1")),
    ]


class AuthenticationMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticator: Authenticator,
        audit: AuditLog,
        public_paths: tuple[str, ...],
        graphql_path: str = "/graphql",
        api_key_header: str = "X-API-Key",
        failures: ClientRateLimiter | None = None,
    ) -> None:
        self.app = app
        self._authenticator = authenticator
        self._audit = audit
        self._public = frozenset(public_paths)
        self._graphql_path = graphql_path
        self._api_key_header = api_key_header
        self._failures = failures
        self._credential_headers = ("authorization", api_key_header.lower())

    def _ide_page(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != self._graphql_path:
            return False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        return "query" not in query

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in self._public:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        address = scope["client"][0] if scope.get("client") else "unknown"
        if self._failures is not None and any(name in headers for name in self._credential_headers):
            wait = await self._failures.failures_retry_after(address)
            if wait is not None:
                await self._lock_out(scope, receive, send, wait)
                return
        try:
            principal = self._authenticator.authenticate(headers)
        except Unauthenticated as error:
            if error.challenge is None and self._ide_page(scope):  # no credential presented, just the page
                await self.app(scope, receive, send)
                return
            self._audit.refused(scope["path"], error)
            if self._failures is not None and error.challenge is not None:  # a credential was presented
                await self._failures.count_failure(address)
            await self._refuse(scope, send, error)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    async def _lock_out(self, scope: Scope, receive: Receive, send: Send, wait: int) -> None:
        self._audit.refused(scope["path"], Unauthenticated("too many refused credentials from this address"))
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4429, "reason": "too many refused credentials"})
            return
        message = f"too many refused credentials from this address: retry in {wait} s"
        extensions: dict[str, object] = {"retryAfterSeconds": wait}
        response = refusal_response(429, message, "RATE_LIMITED", extensions, headers={"Retry-After": str(wait)})
        await response(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send, error: Unauthenticated) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4401, "reason": "unauthenticated"})
            return
        body = unauthenticated_body(error.message)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
            (b"cache-control", b"no-store"),
            *_challenges(error, self._api_key_header),
        ]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})
