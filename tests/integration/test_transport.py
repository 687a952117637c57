"""The wire clients' transport (``sources/transport.py``) against a real server on loopback: what
goes out (the URL as httpx encoded it), what comes back (whole bodies, bodies over the limit, the
failures the clients translate)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from customs_gateway.errors import UpstreamContract, UpstreamTimeout, UpstreamUnavailable
from customs_gateway.sources.china import ChinaClient, ChinaSourceSettings
from customs_gateway.sources.kazakhstan.client import fetch, resource_path
from customs_gateway.sources.net import refused
from customs_gateway.sources.transport import AiohttpBodyTransport
from customs_sim.serving import ServerThread, serve_in_thread

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

BIG = bytes(range(256)) * 1200  # 300 KB: several reads of the socket, several pieces
LIMIT = 64 * 1024
PIECE = b"x" * 16 * 1024


class Upstream:
    """A raw ASGI app: each path one behaviour; notes what it received and how much it sent."""

    def __init__(self) -> None:
        self.seen: list[tuple[bytes, bytes]] = []  # (raw path, query string)
        self.streamed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.seen.append((scope["raw_path"], scope["query_string"]))
        path = scope["path"]
        if path == "/whole" or path == "/declared-too-large":
            await self._answer(send, 200, BIG, [(b"content-length", str(len(BIG)).encode())])
        elif path == "/endless":  # no Content-Length: chunked, far more than any limit
            gone = asyncio.Event()

            async def watch() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                gone.set()

            watcher = asyncio.create_task(watch())
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for _ in range(4096):  # 64 MiB if nobody stops reading
                if gone.is_set():  # uvicorn drops what is sent after the client left
                    break
                self.streamed += len(PIECE)
                await send({"type": "http.response.body", "body": PIECE, "more_body": True})
                await asyncio.sleep(0)
            await send({"type": "http.response.body", "body": b""})
            watcher.cancel()
        elif path == "/slow":
            await asyncio.sleep(2)
            await self._answer(send, 200, b"late", [])
        elif path == "/retry-later":
            await self._answer(send, 429, b"", [(b"retry-after", b"7"), (b"content-length", b"0")])
        else:
            await self._answer(send, 200, b"{}", [(b"content-length", b"2")])

    @staticmethod
    async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[Upstream, ServerThread]]:
    app = Upstream()
    with serve_in_thread(app) as server:
        yield app, server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = AiohttpBodyTransport(httpx.Limits(max_connections=4), max_body_bytes=LIMIT)
    async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5.0, read=0.5)) as client:
        yield client


def url(server: ServerThread, path: str, query: str | None = None) -> str:
    return server.url + path + ("" if query is None else f"?{query}")


async def test_a_whole_body_arrives_as_sent(upstream: tuple[Upstream, ServerThread]) -> None:
    _, server = upstream
    transport = AiohttpBodyTransport(httpx.Limits(max_connections=4), max_body_bytes=len(BIG))
    async with httpx.AsyncClient(transport=transport) as client:
        answer = await fetch(
            client, client.build_request("GET", url(server, "/whole")), max_body_bytes=len(BIG), endpoint="/whole"
        )
        again = await client.get(url(server, "/whole"))
    assert answer.status == 200 and answer.body == BIG
    assert again.content == BIG and again.headers["content-length"] == str(len(BIG))


async def test_a_declared_length_over_the_limit_is_refused_unread(
    upstream: tuple[Upstream, ServerThread], http: httpx.AsyncClient
) -> None:
    _, server = upstream
    request = http.build_request("GET", url(server, "/declared-too-large"))
    with pytest.raises(UpstreamContract, match=f"larger than {LIMIT} bytes"):
        await fetch(http, request, max_body_bytes=LIMIT, endpoint="/declared-too-large")
    # the connection is usable again (or replaced): the next call works
    assert (await http.get(url(server, "/small"))).content == b"{}"


async def test_an_endless_body_is_read_only_up_to_the_limit(
    upstream: tuple[Upstream, ServerThread], http: httpx.AsyncClient
) -> None:
    app, server = upstream
    request = http.build_request("GET", url(server, "/endless"))
    with pytest.raises(UpstreamContract, match="larger than"):
        await fetch(http, request, max_body_bytes=LIMIT, endpoint="/endless")
    await asyncio.sleep(0.2)
    assert app.streamed < 1024 * len(PIECE)  # a few socket buffers' worth, not 64 MiB


async def test_the_url_goes_out_as_encoded(upstream: tuple[Upstream, ServerThread], http: httpx.AsyncClient) -> None:
    # aiohttp would re-quote a URL string: "%2E%2E" decoded to ".." and resolved away.
    app, server = upstream
    path = "/api/v1/preliminary-information" + resource_path("..")
    await http.get(url(server, path, "from=2025-01-10T00%3A00%3A00Z&plate=%E5%90%89A"))
    assert app.seen[-1] == (
        b"/api/v1/preliminary-information/%2E%2E",
        b"from=2025-01-10T00%3A00%3A00Z&plate=%E5%90%89A",
    )


async def test_a_signed_call_reaches_the_path_it_signed(upstream: tuple[Upstream, ServerThread]) -> None:
    app, server = upstream
    settings = ChinaSourceSettings(base_url=server.url, app_id="gw", app_secret="s", retry={"attempts": 1})
    transport = AiohttpBodyTransport.for_upstream(settings)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(UpstreamContract):  # "{}" is no envelope: the answer does not matter here
            await ChinaClient(settings, client).get(("road-manifests", ".."), {"startTime": "2025-01-10 00:00:00"})
    assert app.seen[-1] == (b"/gacc/api/v1/road-manifests/%2E%2E", b"startTime=2025-01-10%2000%3A00%3A00")


async def test_a_status_and_its_headers_come_through(
    upstream: tuple[Upstream, ServerThread], http: httpx.AsyncClient
) -> None:
    _, server = upstream
    answer = await http.get(url(server, "/retry-later"))
    assert answer.status_code == 429 and answer.headers["retry-after"] == "7" and answer.content == b""


async def test_no_answer_in_time_is_a_read_timeout(
    upstream: tuple[Upstream, ServerThread], http: httpx.AsyncClient
) -> None:
    _, server = upstream
    with pytest.raises(httpx.ReadTimeout):
        await http.get(url(server, "/slow"))


async def test_a_refused_connection_is_told_apart_from_a_timeout() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once the probe is closed
    transport = AiohttpBodyTransport(httpx.Limits(max_connections=1), max_body_bytes=LIMIT)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.ConnectTimeout) as caught:  # httpx-aiohttp's class, kept (sources/net.py)
            await client.get(f"http://127.0.0.1:{port}/")
    assert refused(caught.value)


async def test_the_clients_translate_what_the_transport_raises() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = ChinaSourceSettings(
        base_url=f"http://127.0.0.1:{port}", app_id="gw", app_secret="s", retry={"attempts": 1}
    )
    transport = AiohttpBodyTransport.for_upstream(settings)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(UpstreamUnavailable, match="refused") as caught:
            await ChinaClient(settings, client).get(("ports",))
    assert not isinstance(caught.value, UpstreamTimeout)
