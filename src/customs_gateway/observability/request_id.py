"""The request id: one per incoming request, on every log line of it and sent upstream.

Carried in a contextvar so the sources' clients (deep under DataLoaders and tasks) can send it as
``X-Request-ID`` without threading it through every signature; asyncio copies the context into
each task, so a request's concurrent upstream calls all carry its id. An id the caller sends is
kept when it is well-formed (so their logs and ours join up) and replaced otherwise: it ends up in
our log lines and in the authorities' requests, so it must not carry anything but a token.
"""

from __future__ import annotations

import contextvars
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "REQUEST_ID_HEADER",
    "RequestIdMiddleware",
    "accept_request_id",
    "bind_request_id",
    "current_request_id",
    "new_request_id",
    "upstream_headers",
    "upstream_request_id",
]

REQUEST_ID_HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,128}")
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("customs_gateway_request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(candidate: str | None) -> str:
    """The caller's id if it is a plain token of sensible length, else a fresh one."""
    if candidate is not None and _WELL_FORMED.fullmatch(candidate):
        return candidate
    return new_request_id()


def current_request_id() -> str | None:
    return _current.get()


@contextmanager
def bind_request_id(request_id: str | None = None) -> Iterator[str]:
    """Run the block as request ``request_id`` (a fresh id when ``None``)."""
    bound = request_id or new_request_id()
    token = _current.set(bound)
    try:
        yield bound
    finally:
        _current.reset(token)


def upstream_request_id() -> str:
    """The id to send upstream: the current request's, or a fresh one for work outside any request
    (a background refresh still gets an id the authority's logs can be searched by)."""
    return _current.get() or new_request_id()


def upstream_headers() -> dict[str, str]:
    """``{"X-Request-ID": …}`` for a client to merge into each upstream request's headers."""
    return {REQUEST_ID_HEADER: upstream_request_id()}


class RequestIdMiddleware:
    """Pure ASGI middleware: binds the request id for the request and echoes it in the response.

    Pure ASGI rather than ``BaseHTTPMiddleware`` so the contextvar set here is the one the
    endpoint's task sees (and streaming responses are not buffered).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", ()):
            if name.lower() == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = accept_request_id(incoming)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode("ascii"))]
                message = {**message, "headers": headers}
            await send(message)

        with bind_request_id(request_id):
            await self.app(scope, receive, send_with_id)
