"""OAuth2 client credentials (RFC 6749 §4.4) and bearer checks (RFC 6750) of the KGD simulator.

Tokens are opaque random strings held in memory. The store is bounded: expired tokens are purged,
but kept for a grace period first so a client presenting one learns it *expired* (TOKEN_EXPIRED)
rather than that it never existed (INVALID_TOKEN), which is what a gateway's refresh logic keys on.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hmac
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

import orjson
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["BearerCheck", "TokenIssuer", "token_endpoint"]

Clock = Callable[[], float]


class BearerCheck(enum.Enum):
    OK = "OK"
    UNAUTHORIZED = "UNAUTHORIZED"  # no bearer token at all
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105  (an error code, not a secret) never issued or forgotten
    TOKEN_EXPIRED = "TOKEN_EXPIRED"  # noqa: S105  (an error code, not a secret)


@dataclass(slots=True)
class _Token:
    client_id: str
    expires_at: float


class TokenIssuer:
    """Issues and checks bearer tokens for one client; ``clock`` is injectable for tests."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        lifetime_s: float,
        clock: Clock,
        max_tokens: int = 10_000,
        expired_grace_s: float = 3_600.0,
    ) -> None:
        self._client_id = client_id
        self._secret = client_secret.encode()
        self.lifetime_s = lifetime_s
        self._clock = clock
        self._max = max_tokens
        self._grace = expired_grace_s
        self._tokens: dict[str, _Token] = {}  # insertion order = issue order, used for eviction

    def __len__(self) -> int:
        return len(self._tokens)

    def authenticate(self, client_id: str, client_secret: str) -> bool:
        # compare_digest on both so a wrong client id costs the same time as a wrong secret.
        id_ok = hmac.compare_digest(client_id.encode(), self._client_id.encode())
        secret_ok = hmac.compare_digest(client_secret.encode(), self._secret)
        return id_ok and secret_ok

    def issue(self, client_id: str) -> str:
        now = self._clock()
        if len(self._tokens) >= self._max:
            self.purge(now)
        while len(self._tokens) >= self._max:
            # Still full of live tokens: forget the oldest rather than grow without bound.
            del self._tokens[next(iter(self._tokens))]
        token = secrets.token_urlsafe(32)
        self._tokens[token] = _Token(client_id, now + self.lifetime_s)
        return token

    def purge(self, now: float | None = None) -> None:
        """Forget tokens that expired more than the grace period ago."""
        cutoff = (self._clock() if now is None else now) - self._grace
        for token in [t for t, info in self._tokens.items() if info.expires_at <= cutoff]:
            del self._tokens[token]

    def check(self, authorization: str | None) -> BearerCheck:
        if not authorization:
            return BearerCheck.UNAUTHORIZED
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return BearerCheck.UNAUTHORIZED
        info = self._tokens.get(token)
        if info is None:
            return BearerCheck.INVALID_TOKEN
        if self._clock() >= info.expires_at:
            return BearerCheck.TOKEN_EXPIRED
        return BearerCheck.OK


_NO_CACHE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _json(status: int, body: dict[str, object], headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={**_NO_CACHE, **(headers or {})},
    )


def _error(status: int, error: str, description: str, basic: bool = False) -> Response:
    # RFC 6749 §5.2: a failed HTTP Basic authentication answers with the scheme's challenge.
    headers = {"WWW-Authenticate": 'Basic realm="kgd"'} if basic else None
    return _json(status, {"error": error, "error_description": description}, headers)


def _basic_credentials(header: str) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` of a Basic header; ValueError when it is malformed."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("malformed Basic credentials") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise ValueError("malformed Basic credentials")
    # RFC 6749 §2.3.1: both are form-urlencoded before being joined.
    return unquote(client_id), unquote(secret)


async def token_endpoint(request: Request, issuer: TokenIssuer) -> Response:
    """``POST /auth/token``: the client credentials grant, JSON answers as RFC 6749 §5 says."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return _error(400, "invalid_request", "body must be application/x-www-form-urlencoded")
    try:
        pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return _error(400, "invalid_request", "body is not UTF-8")
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:  # RFC 6749 §3.2: parameters must not be repeated
            return _error(400, "invalid_request", f"repeated parameter: {key}")
        form[key] = value
    grant_type = form.get("grant_type")
    if not grant_type:
        return _error(400, "invalid_request", "grant_type is required")
    if grant_type != "client_credentials":
        return _error(400, "unsupported_grant_type", "only client_credentials is supported")
    try:
        basic = _basic_credentials(request.headers.get("authorization", ""))
    except ValueError as exc:
        return _error(400, "invalid_request", str(exc))
    in_body = "client_id" in form or "client_secret" in form
    if basic is not None and in_body:
        return _error(400, "invalid_request", "use one client authentication method only")
    if basic is not None:
        client_id, secret = basic
    elif in_body:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    else:
        return _error(401, "invalid_client", "client authentication is required", basic=True)
    if not issuer.authenticate(client_id, secret):
        return _error(401, "invalid_client", "client authentication failed", basic=basic is not None)
    token = issuer.issue(client_id)
    return _json(200, {"access_token": token, "token_type": "Bearer", "expires_in": math.ceil(issuer.lifetime_s)})
