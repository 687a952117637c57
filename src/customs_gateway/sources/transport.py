"""The wire clients' httpx transport: one ``aiohttp.ClientSession``, each answer's body read whole.

httpx stays the clients' API (``build_request``, ``send``, the exceptions they translate, the
transports tests inject); only the network underneath is aiohttp, as with httpx-aiohttp, which
this replaces. Both clients want a whole body anyway (orjson or the recognizer takes it in one
piece), and httpx-aiohttp handed it over in 16 KiB pieces through three async iterators
(aiohttp's ``iter_chunked``, its stream, httpx's decoders), with a ``ClientTimeout`` built and
the URL string re-quoted by yarl for every call, and a cookie jar the clients never use.

The body size limit stays the clients' (they check ``Content-Length``, then count what they
read): this transport reads a body whole only when its declared length is within
``max_body_bytes`` (aiohttp reads no more than the declared length); a body with a larger
declared length, or none (chunked), is handed over as a stream of 16 KiB pieces as before, so the
client refuses it up front or stops reading at the limit, and a hostile huge body is never
buffered. A whole body is joined once from the pieces aiohttp buffered, as they are: aiohttp's
own ``read()`` joins what is buffered at each wake-up and then the joins again, and keeps the
body on its response object (which sits in a reference cycle until the collector runs): fresh
memory for each page, ~30-90 page faults a KGD call.

aiohttp's exceptions become httpx's by httpx-aiohttp's table (below) and its rule (the most
derived target of every matching row), so the clients see the same classes as before: a refused
connection is still an ``httpx.ConnectTimeout`` whose cause is the ``OSError``, which
:func:`.net.refused` tells apart.

The URL goes to aiohttp as httpx built it (``encoded=True``). httpx-aiohttp handed aiohttp a
string, which yarl re-quoted: that decodes percent escapes of unreserved characters, so a path
segment the clients had encoded as ``%2E%2E`` became ``..`` and was resolved away with the segment
before it, and the query went out decoded (``%3A`` as ``:``), not as it was signed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Protocol

import aiohttp
import httpx
import yarl

__all__ = ["AiohttpBodyTransport", "UpstreamNetwork"]

_PIECE = 16 * 1024  # a streamed (unbounded or oversized) body's pieces, as httpx-aiohttp read them

#: httpx-aiohttp 0.2's table, in its order; :func:`_translated` applies its rule.
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (aiohttp.ServerTimeoutError, httpx.TimeoutException),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectionError, httpx.ConnectTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.ClientProxyConnectionError, httpx.ProxyError),
    (aiohttp.ClientHttpProxyError, httpx.ProxyError),
    (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
    (aiohttp.InvalidUrlClientError, httpx.UnsupportedProtocol),
)


def _translated(exc: Exception) -> type[httpx.HTTPError] | None:
    """The httpx exception class for ``exc``: among the rows ``exc`` matches, a later row's
    target replaces the earlier one only if it subclasses it (httpx-aiohttp's rule)."""
    mapped: type[httpx.HTTPError] | None = None
    for source, target in _EXCEPTIONS:
        if isinstance(exc, source) and (mapped is None or issubclass(target, mapped)):
            mapped = target
    return mapped


@contextlib.contextmanager
def _httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        mapped = _translated(exc)
        if mapped is None:
            raise
        raise mapped(str(exc)) from exc


async def _whole(content: aiohttp.StreamReader) -> bytes:
    """The rest of the body in one ``bytes`` (the caller has checked its declared length)."""
    pieces = []
    while True:
        piece, end_of_http_chunk = await content.readchunk()  # a piece as buffered: not copied
        if piece:
            pieces.append(piece)
        elif not end_of_http_chunk:
            return b"".join(pieces)


class _Body(httpx.AsyncByteStream):
    """A body read whole, handed over once.

    It lets go of the bytes as it hands them over (or is closed unread): httpx's response and
    its stream refer to each other, so whatever the stream holds lives until the cycle collector
    runs, and the scan workers' runs rarely. Kept there, each page's body (up to ~1.3 MB) was
    fresh memory every call: ~30-90 page faults a KGD call, more CPU than the transport saved.
    """

    def __init__(self, body: bytes) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        body, self._body = self._body, b""
        if body:
            yield body

    async def aclose(self) -> None:
        self._body = b""


class _Pieces(httpx.AsyncByteStream):
    """A body not read up front: streamed in pieces; closing it releases the connection."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for piece in self._response.content.iter_chunked(_PIECE):
                yield piece

    async def aclose(self) -> None:
        with _httpx_errors():
            await self._response.__aexit__(None, None, None)


class UpstreamNetwork(Protocol):
    """What an authority's settings say of its network: the pool's limits and the body size limit."""

    @property
    def max_body_bytes(self) -> int: ...

    def httpx_limits(self) -> httpx.Limits: ...


class AiohttpBodyTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncBaseTransport`` over one ``aiohttp.ClientSession`` (opened on first use, in
    the running loop; closed by :meth:`aclose`), for one upstream's client.

    ``limits`` as httpx's (connections in the pool, keep-alive expiry); ``max_body_bytes`` the
    client's body size limit (see the module docstring). No cookies, no redirects, no proxies
    from the environment, no decompression (httpx's decoders see the body as sent).
    """

    def __init__(self, limits: httpx.Limits, *, max_body_bytes: int) -> None:
        self._limits = limits
        self._max_body_bytes = max_body_bytes
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: tuple[object, aiohttp.ClientTimeout] | None = None

    @classmethod
    def for_upstream(cls, settings: UpstreamNetwork) -> AiohttpBodyTransport:
        """The transport of one authority's client, as its settings size it."""
        return cls(settings.httpx_limits(), max_body_bytes=settings.max_body_bytes)

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._limits.max_connections or 0,  # 0: no limit, as httpx's None
            keepalive_timeout=self._limits.keepalive_expiry,
            ssl=httpx.create_ssl_context(trust_env=False),  # httpx's (certifi's) trust, as before
        )
        self._session = aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False, trust_env=False
        )
        return self._session

    def _timeout(self, extensions: dict[str, object]) -> aiohttp.ClientTimeout:
        """httpx's per-request timeouts as aiohttp's: the same object while they do not change."""
        given = extensions.get("timeout")
        key = tuple(given.values()) if isinstance(given, dict) else None
        if self._timeouts is None or self._timeouts[0] != key:
            values = given if isinstance(given, dict) else {}
            timeout = aiohttp.ClientTimeout(
                sock_connect=values.get("connect"), sock_read=values.get("read"), connect=values.get("pool")
            )
            self._timeouts = (key, timeout)
        return self._timeouts[1]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session or self._open()
        data: bytes | httpx.AsyncByteStream | None
        try:
            data = request.content or None
        except httpx.RequestNotRead:  # a streamed upload: aiohttp chunks it itself
            data = request.stream  # type: ignore[assignment]  # aiohttp reads any async iterable
            request.headers.pop("transfer-encoding", None)
        sni = request.extensions.get("sni_hostname")
        with _httpx_errors():
            response = await session.request(
                request.method,
                # As httpx encoded it: yarl's own re-quoting would decode an id's "%2E%2E" to
                # ".." and drop it with the segment before (another upstream path), and costs.
                yarl.URL(str(request.url), encoded=True),
                headers=request.headers.multi_items(),
                data=data,
                allow_redirects=False,
                compress=False,
                timeout=self._timeout(request.extensions),
                server_hostname=sni if isinstance(sni, str) else None,
            )
            stream: httpx.AsyncByteStream
            declared = response.content_length
            if declared is not None and declared <= self._max_body_bytes:
                try:
                    stream = _Body(await _whole(response.content))
                finally:
                    response.release()
            else:
                stream = _Pieces(response)
        extensions: dict[str, object] = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode()
        return httpx.Response(
            response.status, headers=response.raw_headers, stream=stream, request=request, extensions=extensions
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
