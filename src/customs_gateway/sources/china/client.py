"""The wire client of the GACC road-manifest API: signing, envelope, and error translation.

This module is the one boundary where foreign exceptions (httpx, orjson) become
:mod:`customs_gateway.errors` exceptions, each with ``raise … from exc``. It knows the authority
only by ``docs/wire-china.md``, never by the simulator's code.

Outcome of one call::

    transport error (refused, reset, …)       UpstreamUnavailable
    httpx timeout / total deadline (guard)    UpstreamTimeout
    HTTP 429                                  UpstreamUnavailable(retry_after_s=Retry-After)
    HTTP 5xx                                  UpstreamUnavailable
    other non-200                             UpstreamRejected
    body too large / undecodable / not JSON   UpstreamContract
    or not an envelope with a string code
    envelope 0000                             → ``data``
    E1001 E1002 E4001–E4005                   UpstreamRejected (code in the message)
    E2003 E2004                               NotFoundCode (internal; the source answers None)
    E9999                                     UpstreamUnavailable
    E4040 or any unknown code                 UpstreamContract
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import quote

import httpx
import orjson

from ...domain import Authority
from ...errors import (
    InvalidInput,
    UpstreamContract,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from ...observability.request_id import upstream_headers
from ...resilience import CallObserver, ResilienceConfig, UpstreamGuard
from ..net import refused
from .settings import ChinaSourceSettings

__all__ = [
    "API_ROOT",
    "ChinaClient",
    "NotFoundCode",
    "QueryParams",
    "canonical_query",
    "china_guard",
    "encode_path",
    "endpoint_template",
    "sign_request",
    "string_to_sign",
]

API_ROOT = ("gacc", "api", "v1")
_GACC = Authority.GACC
_RFC3986_SAFE = "-_.~"  # the wire doc's encoding: urllib.parse.quote(s, safe="-_.~")

_REJECTED = {
    "E1001": "bad parameter",
    "E1002": "batch size out of range",
    "E4001": "signature headers missing",
    "E4002": "unknown appId",
    "E4003": "signature rejected",
    "E4004": "timestamp out of window",
    "E4005": "nonce replayed",
}
_NOT_FOUND = frozenset({"E2003", "E2004"})
_ROUTE_WORDS = frozenset({"batch-query"})  # path segments that name a route, not a record
_MESSAGE_ECHO_LIMIT = 120  # how much of the authority's own message we keep in ours

_log = logging.getLogger(__name__)


class NotFoundCode(Exception):
    """The authority answered E2003/E2004: the key does not exist.

    Not a :class:`GatewayError`: "not found" is an answer, which the source turns into ``None``;
    it must never escape the source.
    """

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


QueryParams = Mapping[str, str] | Sequence[tuple[str, str]]


def _pairs(params: QueryParams) -> list[tuple[str, str]]:
    return list(params.items()) if isinstance(params, Mapping) else list(params)


def canonical_query(params: QueryParams) -> str:
    """Sorted by name then value, then RFC 3986-encoded: the form we both sign and send.

    A name may repeat (``plateNo``, up to 50 plates): pass a sequence of pairs then.
    """
    # Sorted as decoded text, then encoded: with a repeated name the two orders can differ
    # (``%E6…`` sorts before ``X`` encoded, after it decoded), and the authority sorts decoded.
    pairs = sorted(_pairs(params))
    return "&".join(f"{quote(name, safe=_RFC3986_SAFE)}={quote(value, safe=_RFC3986_SAFE)}" for name, value in pairs)


def encode_path(segments: Sequence[str]) -> str:
    """``/gacc/api/v1/<seg>/<seg>``; every segment fully percent-encoded.

    ``quote(s, safe="")`` keeps ``/`` and ``?`` from escaping the segment; dots are encoded too
    because a segment of ``.`` or ``..`` would otherwise be collapsed by URL normalisation and
    an id could reach another upstream path.
    """
    encoded = []
    for segment in (*API_ROOT, *segments):
        if not segment:
            raise InvalidInput("empty path segment")
        encoded.append(quote(segment, safe="").replace(".", "%2E"))
    return "/" + "/".join(encoded)


def string_to_sign(method: str, path: str, query: str, body: bytes, timestamp: str, nonce: str) -> str:
    return "\n".join((method.upper(), path, query, hashlib.sha256(body).hexdigest(), timestamp, nonce))


def sign_request(
    secret: str, method: str, path: str, query: str, body: bytes, timestamp: str, nonce: str
) -> str:
    message = string_to_sign(method, path, query, body, timestamp, nonce)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _new_nonce() -> str:
    return secrets.token_hex(16)  # 32 characters of [0-9a-f], inside the 16–64 [A-Za-z0-9] rule


def china_guard(
    settings: ChinaSourceSettings,
    config: ResilienceConfig | None = None,
    observer: CallObserver | None = None,
) -> UpstreamGuard:
    """The guard of every GACC call: this section's policy and total timeout.

    ``config`` gives the operation deadline (and may override the policy, as the app's does);
    E2003/E2004 are answers, so "not found" counts as the authority being up.
    """
    if config is None:
        config = ResilienceConfig(per_upstream={_GACC: settings.policy()})
    return UpstreamGuard.from_config(
        _GACC, config, total_timeout_s=settings.total_timeout_s, answers=(NotFoundCode,), observer=observer
    )


def endpoint_template(path: Sequence[str]) -> str:
    """The bounded name of a call for metrics and logs: ids become ``{id}``, routes stay."""
    named = [segment if index == 0 or segment in _ROUTE_WORDS else "{id}" for index, segment in enumerate(path)]
    return "/" + "/".join((*API_ROOT, *named))


class ChinaClient:
    """Signed calls to the GACC API; returns the envelope's ``data`` or raises.

    ``http`` is the long-lived, injected client (see :func:`.settings.build_http_client`);
    ``clock`` gives seconds since the epoch (tests pin it to check signatures). Every exchange
    goes through ``guard`` (timeouts, retries, breaker, bulkhead): the app injects the one it
    reports on; without one the client builds its own from ``settings``.
    """

    def __init__(
        self,
        settings: ChinaSourceSettings,
        http: httpx.AsyncClient,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = _new_nonce,
        *,
        guard: UpstreamGuard | None = None,
    ) -> None:
        self._settings = settings
        self._http = http
        self._clock = clock
        self._nonce = nonce
        self._guard = guard if guard is not None else china_guard(settings)
        self._prefix = httpx.URL(settings.base_url).raw_path.decode("ascii").rstrip("/")

    async def get(self, path: Sequence[str], params: QueryParams | None = None) -> object:
        """GET ``/gacc/api/v1/<path…>`` with ``params``; each path item is one raw segment."""
        return await self._call("GET", path, params or {}, b"", idempotent=True)

    async def post(self, path: Sequence[str], json_body: object, *, idempotent: bool = False) -> object:
        """POST a JSON body; ``idempotent=True`` for the read-only batch queries (then retried)."""
        return await self._call("POST", path, {}, orjson.dumps(json_body), idempotent=idempotent)

    async def _call(
        self, method: str, path: Sequence[str], params: QueryParams, body: bytes, *, idempotent: bool
    ) -> object:
        api_path = encode_path(path)
        query = canonical_query(params)
        label = f"{method} {endpoint_template(path)}"
        # Each attempt signs anew: a retry must not replay the nonce (E4005) or an old timestamp.
        return await self._guard.call(label, idempotent, lambda: self._attempt(method, api_path, query, body))

    async def _attempt(self, method: str, api_path: str, query: str, body: bytes) -> object:
        endpoint = f"{method} {api_path}"
        sent_path = self._prefix + api_path
        timestamp = str(int(self._clock() * 1000))
        nonce = self._nonce()
        secret = self._settings.app_secret.get_secret_value()
        signature = sign_request(secret, method, sent_path, query, body, timestamp, nonce)
        headers = {
            "appId": self._settings.app_id,
            "timestamp": timestamp,
            "nonce": nonce,
            "sign": signature,
            **upstream_headers(),
        }
        if body:
            headers["content-type"] = "application/json"
        url = self._settings.base_url.removesuffix(self._prefix) + sent_path + (f"?{query}" if query else "")
        request = self._http.build_request(method, url, headers=headers, content=body)
        # The whole-exchange timeout is the guard's (total_timeout_s, cut to the operation's deadline).
        try:
            status, retry_after, raw = await self._exchange(request, endpoint)
        except httpx.DecodingError as exc:  # a Content-Encoding the body does not honour
            raise UpstreamContract(_GACC, "answer body cannot be decoded", endpoint=endpoint) from exc
        except httpx.TimeoutException as exc:
            if refused(exc):  # a refused connection reported as a connect timeout (see sources/net.py)
                raise UpstreamUnavailable(_GACC, "connection refused", endpoint=endpoint) from exc
            raise UpstreamTimeout(_GACC, f"timed out ({type(exc).__name__})", endpoint=endpoint) from exc
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(
                _GACC, f"transport failed ({type(exc).__name__})", endpoint=endpoint
            ) from exc
        _log.debug("gacc %s -> %s (%d bytes)", endpoint, status, len(raw or b""))
        if status == 429:
            raise UpstreamUnavailable(
                _GACC,
                "rate limited (HTTP 429)",
                endpoint=endpoint,
                retry_after_s=_retry_after(retry_after, self._clock()),
            )
        if status >= 500:
            raise UpstreamUnavailable(_GACC, f"HTTP {status}", endpoint=endpoint)
        if status != 200:
            raise UpstreamRejected(_GACC, f"HTTP {status}", endpoint=endpoint)
        assert raw is not None  # _exchange reads the body of every 200
        return _unwrap(raw, endpoint, redact=(secret, signature))

    async def _exchange(self, request: httpx.Request, endpoint: str) -> tuple[int, str | None, bytes | None]:
        """Send and read at most ``max_body_bytes``; bodies of non-200 answers are not read."""
        limit = self._settings.max_body_bytes
        response = await self._http.send(request, stream=True)
        try:
            if response.status_code != 200:
                return response.status_code, response.headers.get("retry-after"), None
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise _too_large(limit, endpoint)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit, endpoint)
                chunks.append(chunk)
            return 200, None, b"".join(chunks)
        finally:
            await response.aclose()


def _too_large(limit: int, endpoint: str) -> UpstreamContract:
    return UpstreamContract(_GACC, f"answer larger than {limit} bytes", endpoint=endpoint)


def _retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` is delta-seconds or an HTTP date; anything else means "unknown"."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


def _unwrap(raw: bytes, endpoint: str, redact: tuple[str, ...]) -> object:
    try:
        envelope = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UpstreamContract(_GACC, "answer is not JSON", endpoint=endpoint) from exc
    if not isinstance(envelope, dict) or not isinstance(envelope.get("code"), str):
        raise UpstreamContract(_GACC, "answer is not an envelope with a code", endpoint=endpoint)
    code: str = envelope["code"]
    if code == "0000":
        return envelope.get("data")
    said = _echo(envelope.get("message"), redact)
    error: UpstreamError
    if code in _NOT_FOUND:
        raise NotFoundCode(code)
    if code in _REJECTED:
        error = UpstreamRejected(_GACC, f"{code} {_REJECTED[code]}{said}", endpoint=endpoint)
    elif code == "E9999":
        error = UpstreamUnavailable(_GACC, f"{code} internal error{said}", endpoint=endpoint)
    elif code == "E4040":
        # The authority does not know the endpoint we were built for: its contract moved.
        error = UpstreamContract(_GACC, f"{code} endpoint unknown upstream", endpoint=endpoint)
    else:
        error = UpstreamContract(_GACC, f"unknown envelope code {code[:16]!r}", endpoint=endpoint)
    raise error


def _echo(message: object, redact: tuple[str, ...]) -> str:
    """The authority's own words (E1001 names the parameter), short and never echoing secrets."""
    if not isinstance(message, str) or not message:
        return ""
    text = message
    for secret in redact:  # before truncating, so no cut-off prefix of a secret survives
        if secret:
            text = text.replace(secret, "***")
    return f": {text[:_MESSAGE_ECHO_LIMIT]}"
