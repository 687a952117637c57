"""OAuth2 client-credentials tokens for the KGD API: cached, refreshed early, fetched single-flight.

Why single-flight: when the cached token expires under load, every concurrent request would
otherwise ask ``/auth/token`` at once. Here the first caller starts one fetch task and every
other caller awaits that same task (shielded, so a cancelled caller does not cancel the fetch
for the others); a failure reaches all of them once instead of being retried by each in turn.

Neither the client secret nor a token ever appears in a log line or an exception message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import orjson

from ...domain import Authority
from ...errors import UpstreamContract, UpstreamError, UpstreamRejected, UpstreamUnavailable
from ...observability.request_id import upstream_headers
from ...resilience import UpstreamGuard
from .client import fetch, kazakhstan_guard, retry_after_s
from .settings import KazakhstanSourceSettings

__all__ = ["TokenProvider"]

log = logging.getLogger(__name__)

_KGD = Authority.KGD
_ENDPOINT = "/auth/token"


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    refresh_at: float  # clock() time after which the token is refreshed before use

    def __repr__(self) -> str:  # never show the token itself
        return f"_Token(refresh_at={self.refresh_at:.1f})"


class TokenProvider:
    """Hands out a valid bearer token, fetching a new one only when needed.

    ``clock`` is injectable (monotonic seconds) so tests can expire tokens without sleeping.
    The token request goes through ``guard``, the KGD guard the API calls use (the app injects
    it; without one the provider builds its own from ``settings``): a token endpoint that is
    down is this authority down.
    """

    def __init__(
        self,
        settings: KazakhstanSourceSettings,
        http: httpx.AsyncClient,
        clock: Callable[[], float] = time.monotonic,
        *,
        guard: UpstreamGuard | None = None,
    ) -> None:
        self._settings = settings
        self._http = http
        self._clock = clock
        self._guard = guard if guard is not None else kazakhstan_guard(settings)
        self._token: _Token | None = None
        self._inflight: asyncio.Task[_Token] | None = None

    async def token(self) -> str:
        """A token that is valid for at least the refresh margin (fetching one if necessary)."""
        cached = self._token
        if cached is not None and self._clock() < cached.refresh_at:
            return cached.value
        task = self._inflight
        if task is None:
            task = asyncio.get_running_loop().create_task(self._fetch_and_store())
            task.add_done_callback(self._fetch_done)
            self._inflight = task
        return (await asyncio.shield(task)).value

    def invalidate(self, token: str) -> None:
        """Forget ``token`` (the upstream refused it); a newer token already cached is kept."""
        if self._token is not None and self._token.value == token:
            self._token = None

    def _fetch_done(self, task: asyncio.Task[_Token]) -> None:
        if self._inflight is task:
            self._inflight = None
        # Mark the outcome as retrieved: when every waiter was cancelled, nobody else will.
        if not task.cancelled():
            task.exception()

    async def _fetch_and_store(self) -> _Token:
        token = await self._fetch()
        self._token = token
        return token

    async def _fetch(self) -> _Token:
        # Client credentials have no side effect upstream: the request is safe to retry.
        return await self._guard.call(f"POST {_ENDPOINT}", True, self._attempt)

    async def _attempt(self) -> _Token:
        settings = self._settings
        request = self._http.build_request(
            "POST",
            settings.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": settings.client_id,
                "client_secret": settings.client_secret.get_secret_value(),
            },
            headers={"Accept": "application/json", **upstream_headers()},
        )
        started = self._clock()
        response = await fetch(self._http, request, max_body_bytes=64 * 1024, endpoint=_ENDPOINT)
        if response.status != 200:
            raise _status_error(response.status, response.body, response.headers)
        value, lifetime = _parse_token(response.body)
        log.info("KGD token obtained, lifetime %.0f s", lifetime)
        return _Token(value=value, refresh_at=started + lifetime - settings.refresh_margin_s(lifetime))


def _error_code(body: bytes) -> str:
    """RFC 6749 ``error`` of a JSON error body, if there is one (it holds no secret)."""
    with contextlib.suppress(orjson.JSONDecodeError):
        data = orjson.loads(body)
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            return str(data["error"])[:40]
    return "?"


def _status_error(status: int, body: bytes, headers: httpx.Headers) -> UpstreamError:
    code = _error_code(body)
    detail = f"token request failed: HTTP {status} {code}"
    if status in (400, 401, 403):
        return UpstreamRejected(_KGD, detail, endpoint=_ENDPOINT)
    if status == 429 or status >= 500:
        return UpstreamUnavailable(_KGD, detail, endpoint=_ENDPOINT, retry_after_s=retry_after_s(headers))
    return UpstreamContract(_KGD, detail, endpoint=_ENDPOINT)


def _parse_token(body: bytes) -> tuple[str, float]:
    """``(access_token, expires_in)`` of a token answer, or UpstreamContract (never quoting the body)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise UpstreamContract(_KGD, "token answer is not JSON", endpoint=_ENDPOINT) from exc
    if not isinstance(data, dict):
        raise UpstreamContract(_KGD, "token answer is not a JSON object", endpoint=_ENDPOINT)
    value = data.get("access_token")
    lifetime = data.get("expires_in")
    token_type = data.get("token_type")
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise UpstreamContract(_KGD, "token answer: access_token missing or not a string", endpoint=_ENDPOINT)
    if isinstance(token_type, str) and token_type.lower() != "bearer":
        raise UpstreamContract(_KGD, f"token answer: token_type {token_type[:20]!r}", endpoint=_ENDPOINT)
    if (
        isinstance(lifetime, bool)
        or not isinstance(lifetime, int | float)
        or not math.isfinite(lifetime)
        or lifetime <= 0
    ):
        raise UpstreamContract(
            _KGD, "token answer: expires_in missing or not a positive number", endpoint=_ENDPOINT
        )
    return value, float(lifetime)
