"""What both wire clients share: an HTTP client that keeps no cookies, and what a transport
failure really was, whatever exception class the HTTP stack gave it.

Neither authority's API uses cookies. An ``httpx.AsyncClient`` would still keep any an upstream
set and send them back on every later request of every user (state shared across requests that
nothing here wants), and it inspects each response for them: building the cookie jar's view of
request and response was ~15 % of the CPU of one upstream exchange. :class:`CookielessClient`
does neither.

The transport (:mod:`.transport`, keeping httpx-aiohttp's exception table) maps aiohttp's
``ClientConnectorError`` (connection refused, no route, DNS failure) to ``httpx.ConnectTimeout``:
the table maps the parent class ``ClientConnectionError`` to the timeout and keeps the first
match. A refused connection is an authority that is down, not a slow one (``UPSTREAM_UNAVAILABLE``,
not ``UPSTREAM_TIMEOUT``), so the clients ask :func:`refused` before calling a "timeout" a timeout.
The chain of causes carries the operating system's error.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["CookielessClient", "refused"]

_CHAIN_LIMIT = 8  # causes followed at most (chains are 2-3 long; a cycle must not loop forever)


def refused(exc: BaseException) -> bool:
    """True when ``exc`` was caused by the connection being refused, reset or unreachable."""
    seen: BaseException | None = exc
    for _ in range(_CHAIN_LIMIT):
        if seen is None:
            return False
        if isinstance(seen, ConnectionError) or (isinstance(seen, OSError) and not isinstance(seen, TimeoutError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class _NoCookies(httpx.Cookies):
    """An always-empty jar: ``Set-Cookie`` of an answer is ignored, nothing is ever sent."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        return None


class CookielessClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` that neither keeps nor sends cookies (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("cookies"):
            raise ValueError("upstream clients keep no cookies")
        super().__init__(**kwargs)
        self._cookies = _NoCookies()
