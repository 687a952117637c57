"""Masking of unexpected failures: the client gets an E9999 envelope, the log gets the traceback."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from customs_sim.china.envelope import ApiError, error_response

__all__ = ["MaskErrorsMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_log = logging.getLogger("customs_sim.china")


class MaskErrorsMiddleware:
    """Turns any exception into an E9999 answer instead of Starlette's 500 page.

    It sits just inside Starlette's own ``ServerErrorMiddleware`` and does not re-raise, so the
    server neither prints a second traceback nor answers anything but the envelope. An exception
    after the answer has started cannot be masked any more and is re-raised for the server to
    close the connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._app(scope, receive, tracking_send)
        except Exception:
            _log.exception("unexpected error in %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await error_response(ApiError("E9999"))(scope, receive, send)
