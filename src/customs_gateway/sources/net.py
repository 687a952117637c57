"""What a transport failure really was, whatever exception class the HTTP stack gave it.

httpx-aiohttp maps aiohttp's ``ClientConnectorError`` (connection refused, no route, DNS failure)
to ``httpx.ConnectTimeout``: its table maps the parent class ``ClientConnectionError`` to the
timeout and keeps the first match. A refused connection is an authority that is down, not a slow
one (``UPSTREAM_UNAVAILABLE``, not ``UPSTREAM_TIMEOUT``), so the clients ask :func:`refused`
before calling a "timeout" a timeout. The chain of causes carries the operating system's error.
"""

from __future__ import annotations

__all__ = ["refused"]

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
