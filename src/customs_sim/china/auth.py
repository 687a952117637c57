"""Verification of signed GACC requests, as a pure ASGI middleware in front of the routes.

Checks run cheapest first and the nonce is only remembered once the signature holds, so an
unsigned flood cannot burn a legitimate caller's nonces:

    missing header E4001 → unknown appId E4002 → malformed timestamp/nonce E1001
    → timestamp off by more than the window E4004 → wrong signature E4003 → replayed nonce E4005
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers

from customs_sim.china.envelope import ApiError, error_response
from customs_sim.china.signing import HEADER_NAMES, canonical_query, sign, string_to_sign

__all__ = ["NonceStore", "SignatureMiddleware", "SignatureVerifier"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_NONCE = re.compile(r"[A-Za-z0-9]{16,64}")
_TIMESTAMP = re.compile(r"[0-9]{1,15}")


class NonceStore:
    """Nonces seen within the last ``ttl_s`` seconds, at most ``capacity`` of them.

    Entries are kept in insertion order, which is expiry order while the clock moves forward,
    so expired ones are dropped from the front. Beyond ``capacity`` live nonces the oldest is
    forgotten: a flood that large already breaks the simulator, and unbounded memory would be
    worse than a replay window. Used from the event loop thread only, hence no lock.
    """

    def __init__(self, ttl_s: float, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self._ttl_s = ttl_s
        self._capacity = capacity
        self._expiry: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._expiry)

    def _purge(self, now: float) -> None:
        expired = []
        for key, expiry in self._expiry.items():
            if expiry > now:
                break
            expired.append(key)
        for key in expired:
            del self._expiry[key]

    def check_and_remember(self, key: str, now: float) -> bool:
        """True (and remembered) when ``key`` is new; False when it was seen and is still live."""
        self._purge(now)
        expiry = self._expiry.get(key)
        if expiry is not None and expiry > now:
            return False
        self._expiry.pop(key, None)  # an expired leftover out of order: re-insert at the back
        while len(self._expiry) >= self._capacity:
            del self._expiry[next(iter(self._expiry))]
        self._expiry[key] = now + self._ttl_s
        return True


class SignatureVerifier:
    """Checks one request against ``credentials`` (appId → secret) and the server ``clock``."""

    def __init__(
        self,
        credentials: Mapping[str, str],
        clock: Callable[[], float],
        window_s: float,
        nonces: NonceStore,
    ) -> None:
        self._credentials = dict(credentials)
        self._clock = clock
        self._window_ms = window_s * 1000
        self._nonces = nonces

    def verify(self, method: str, raw_path: str, raw_query: bytes, body: bytes, headers: Headers) -> None:
        """Return when the request is authentic; raise :class:`ApiError` otherwise."""
        values = [headers.get(name) for name in HEADER_NAMES]
        if any(not value for value in values):
            raise ApiError("E4001")
        app_id, timestamp, nonce, signature = (str(value) for value in values)
        secret = self._credentials.get(app_id)
        if secret is None:
            raise ApiError("E4002")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise ApiError("E1001", "timestamp")
        if not _NONCE.fullmatch(nonce):
            raise ApiError("E1001", "nonce")
        now_s = self._clock()
        if abs(now_s * 1000 - int(timestamp)) > self._window_ms:
            raise ApiError("E4004")
        try:
            pairs = parse_qsl(raw_query.decode("utf-8"), keep_blank_values=True, errors="strict")
        except UnicodeError as exc:
            raise ApiError("E1001", "query") from exc
        message = string_to_sign(method, raw_path, canonical_query(pairs), body, timestamp, nonce)
        if not hmac.compare_digest(sign(secret, message), signature):
            raise ApiError("E4003")
        if not self._nonces.check_and_remember(f"{app_id}\n{nonce}", now_s):
            raise ApiError("E4005")


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ApiError("E1001", "body")  # client went away mid-body
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise ApiError("E1001", "body")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class SignatureMiddleware:
    """Authenticates every request under ``prefix``; the body it read is replayed to the app."""

    def __init__(self, app: ASGIApp, verifier: SignatureVerifier, prefix: str, max_body_bytes: int) -> None:
        self._app = app
        self._verifier = verifier
        self._prefix = prefix.rstrip("/")
        self._max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (path == self._prefix or path.startswith(self._prefix + "/")):
            await self._app(scope, receive, send)
            return
        # The path as sent (still percent-encoded) is what the client signed; never the query.
        raw_path = (scope.get("raw_path") or path.encode()).partition(b"?")[0]
        try:
            body = await _read_body(receive, self._max_body_bytes)
            self._verifier.verify(
                scope["method"], raw_path.decode("latin-1"), scope.get("query_string", b""), body,
                Headers(scope=scope),
            )
        except ApiError as error:
            await error_response(error)(scope, receive, send)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body only a disconnect can come

        await self._app(scope, replay, send)
