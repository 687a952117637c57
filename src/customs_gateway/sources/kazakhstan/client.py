"""The wire client of the KGD API: bearer auth, status handling, size-limited XML bodies.

This is the one boundary where httpx exceptions and upstream HTTP statuses become
:mod:`customs_gateway.errors` exceptions (``raise … from exc``); everything above it
(:mod:`.source`) sees parsed XML roots or gateway errors only.

Status handling::

    200                 parsed XML root (and the headers, for X-Total-Count)
    401                 invalidate the token, fetch a fresh one, retry once; then UpstreamRejected
    404 + NOT_FOUND     NotFound (a distinct UpstreamContract the source maps to None)
    400, 403, 405, 4xx  UpstreamRejected with the upstream Code and message
    429, 5xx            UpstreamUnavailable (with retry_after_s from Retry-After)
    anything else       UpstreamContract
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar
from urllib.parse import quote, urlencode

import httpx

from ...domain import Authority
from ...errors import (
    UpstreamContract,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from ...observability.request_id import upstream_headers
from ...resilience import CallObserver, ResilienceConfig, UpstreamGuard
from ..net import CookielessClient, refused
from . import xml
from .settings import KazakhstanSourceSettings

__all__ = [
    "KazakhstanClient",
    "NotFound",
    "Params",
    "RawResponse",
    "TokenSource",
    "create_http_client",
    "endpoint_template",
    "fetch",
    "kazakhstan_guard",
    "resource_path",
    "retry_after_s",
]

log = logging.getLogger(__name__)

Params = Sequence[tuple[str, str]] | Mapping[str, str]
R = TypeVar("R")
_KGD = Authority.KGD
_ROUTE_WORDS = frozenset({"batch"})  # path segments that name a route, not a record
_MESSAGE_CHARS = 200  # upstream messages are quoted, but never at unbounded length


class NotFound(UpstreamContract):
    """The upstream said NOT_FOUND for a single resource.

    Internal: the source turns it into ``None`` where "not found" is an answer. It subclasses
    :class:`UpstreamContract` so that, should it escape where a 404 is not expected (a list
    endpoint), it is still a proper gateway error.
    """


class TokenSource(Protocol):
    """What the client needs of :class:`~.oauth.TokenProvider`."""

    async def token(self) -> str: ...

    def invalidate(self, token: str) -> None: ...


@dataclass(frozen=True, slots=True)
class RawResponse:
    status: int
    headers: httpx.Headers
    body: bytes


def create_http_client(
    settings: KazakhstanSourceSettings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one long-lived client for this upstream: explicit timeouts and pool limits, no redirects."""
    return CookielessClient(
        timeout=settings.timeout(),
        limits=settings.httpx_limits(),
        transport=transport,
        follow_redirects=False,
        headers={"Accept": "application/xml"},
    )


def resource_path(*segments: str) -> str:
    """``/a/b/…`` with every segment percent-encoded, so an id can never reach another path.

    ``quote(…, safe="")`` encodes ``/``, ``?`` and ``#``; dot segments are encoded too because
    URL normalization would otherwise resolve ``..`` against the path before it is sent.
    """
    encoded = []
    for segment in segments:
        part = quote(segment, safe="")
        if part in ("", ".", ".."):
            part = part.replace(".", "%2E") or "%20"
        encoded.append(part)
    return "/" + "/".join(encoded)


async def fetch(
    http: httpx.AsyncClient, request: httpx.Request, *, max_body_bytes: int, endpoint: str
) -> RawResponse:
    """Send ``request`` and read at most ``max_body_bytes`` of the answer, translating httpx errors."""
    try:
        response = await http.send(request, stream=True)
        try:
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
                raise _too_large(max_body_bytes, endpoint)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_body_bytes:
                    raise _too_large(max_body_bytes, endpoint)
                chunks.append(chunk)
        finally:
            await response.aclose()
    except httpx.TimeoutException as exc:
        if refused(exc):  # a refused connection reported as a connect timeout (see sources/net.py)
            raise UpstreamUnavailable(_KGD, "connection refused", endpoint=endpoint) from exc
        raise UpstreamTimeout(_KGD, f"no answer in time ({type(exc).__name__})", endpoint=endpoint) from exc
    except httpx.DecodingError as exc:
        raise UpstreamContract(_KGD, "undecodable response body", endpoint=endpoint) from exc
    except httpx.HTTPError as exc:  # connection refused/reset, protocol errors, proxy errors
        raise UpstreamUnavailable(
            _KGD, f"transport failure ({type(exc).__name__})", endpoint=endpoint
        ) from exc
    return RawResponse(response.status_code, response.headers, b"".join(chunks))


def _too_large(limit: int, endpoint: str) -> UpstreamContract:
    return UpstreamContract(_KGD, f"response body larger than {limit} bytes", endpoint=endpoint)


def retry_after_s(headers: httpx.Headers) -> float | None:
    """Seconds from ``Retry-After`` when given as delta-seconds (HTTP dates are rare here: ignored)."""
    value = headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _upstream_error(body: bytes) -> tuple[str, str]:
    """``(Code, Message)`` of an XML ``<Error>``; placeholders when the body is not one."""
    try:
        root = xml.parse_document(body, ("Error",))
    except UpstreamError:
        return "?", "(no XML error body)"
    code = xml.child_text(root, "Code") or "?"
    message = xml.child_text(root, "Message") or ""
    return code[:40], message[:_MESSAGE_CHARS]


def kazakhstan_guard(
    settings: KazakhstanSourceSettings,
    config: ResilienceConfig | None = None,
    observer: CallObserver | None = None,
) -> UpstreamGuard:
    """The guard of every KGD call, token requests included: one authority, one breaker.

    ``config`` gives the operation deadline (and may override the policy, as the app's does);
    a NOT_FOUND answer counts as the authority being up.
    """
    if config is None:
        config = ResilienceConfig(per_upstream={_KGD: settings.policy()})
    return UpstreamGuard.from_config(
        _KGD, config, total_timeout_s=settings.total_timeout_s, answers=(NotFound,), observer=observer
    )


def endpoint_template(path: str) -> str:
    """The bounded name of a call for metrics and logs: ``/api/v1/preliminary-information/{id}``."""
    segments = path.strip("/").split("/")
    named = [s if index == 0 or s in _ROUTE_WORDS else "{id}" for index, s in enumerate(segments)]
    return "/api/v1/" + "/".join(named)


class KazakhstanClient:
    """GETs on ``/api/v1`` with a bearer token; answers are parsed, hardened XML roots.

    Each exchange (send, read at most ``max_body_bytes``, parse) is one attempt of ``guard``
    (timeouts, retries, breaker, bulkhead); the token comes first, through the same guard but
    as a call of its own, so a token request never holds a slot an API call is waiting for.
    """

    def __init__(
        self,
        settings: KazakhstanSourceSettings,
        http: httpx.AsyncClient,
        tokens: TokenSource,
        *,
        guard: UpstreamGuard | None = None,
    ) -> None:
        self._settings = settings
        self._http = http
        self._tokens = tokens
        self._guard = guard if guard is not None else kazakhstan_guard(settings)

    async def get(
        self, path: str, params: Params | None = None, *, roots: Collection[str] | None = None
    ) -> tuple[xml.Element, httpx.Headers]:
        """GET ``/api/v1{path}`` and return the root element and headers of a 200 answer.

        ``path`` must be built with :func:`resource_path` when it carries an id; ``roots`` are
        the acceptable root elements (any KGD-namespace root when None).
        """
        def parse(body: bytes, endpoint: str) -> xml.Element:
            return xml.parse_document(body, roots, endpoint=endpoint)

        return await self.get_read(path, params, parse)

    async def get_read(
        self, path: str, params: Params | None, read: Callable[[bytes, str], R]
    ) -> tuple[R, httpx.Headers]:
        """As :meth:`get`, the 200 answer's body read by ``read(body, endpoint)`` (which raises
        :class:`UpstreamContract` for a body it refuses) instead of parsed into a tree."""
        label = "GET " + endpoint_template(path)
        token = await self._tokens.token()
        answer = await self._guard.call(label, True, lambda: self._attempt(path, params, read, token))
        if isinstance(answer, RawResponse):
            # Expired or revoked before we expected: drop that token, fetch one fresh token, retry once.
            self._tokens.invalidate(token)
            token = await self._tokens.token()
            answer = await self._guard.call(label, True, lambda: self._attempt(path, params, read, token))
            if isinstance(answer, RawResponse):
                raise self._status_error(answer, path)
        return answer

    async def _attempt(
        self, path: str, params: Params | None, read: Callable[[bytes, str], R], token: str
    ) -> tuple[R, httpx.Headers] | RawResponse:
        """One exchange: the read answer, or the raw 401 (the caller decides about the token)."""
        request = self._http.build_request(
            "GET",
            self._url(path, params),
            headers={"Authorization": f"Bearer {token}", **upstream_headers()},
        )
        log.debug("KGD GET %s", path)
        response = await fetch(self._http, request, max_body_bytes=self._settings.max_body_bytes, endpoint=path)
        if response.status == 401:
            return response
        if response.status != 200:
            raise self._status_error(response, path)
        return read(response.body, path), response.headers

    def _url(self, path: str, params: Params | None) -> str:
        """The full URL, query string included: httpx merging ``params=`` into a URL parsed the
        URL twice more per call (~90 µs), before each KGD call of a round could go out."""
        url = self._settings.api_url + path
        if params:
            pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
            url += "?" + urlencode(pairs, quote_via=quote)
        return url

    def _status_error(self, response: RawResponse, endpoint: str) -> UpstreamError:
        status = response.status
        code, message = _upstream_error(response.body)
        detail = f"HTTP {status} {code}: {message}".rstrip(": ")
        if status == 404 and code == "NOT_FOUND":
            return NotFound(_KGD, detail, endpoint=endpoint)
        if status == 429 or status >= 500:
            return UpstreamUnavailable(
                _KGD, detail, endpoint=endpoint, retry_after_s=retry_after_s(response.headers)
            )
        if status == 408:
            return UpstreamTimeout(_KGD, detail, endpoint=endpoint)
        if 400 <= status < 500 and status != 404:
            return UpstreamRejected(_KGD, detail, endpoint=endpoint)
        return UpstreamContract(_KGD, f"unexpected {detail}", endpoint=endpoint)
