"""The GACC request signature (``docs/wire-china.md``, "Transport and signing"), both ways.

The simulator verifies with these functions and the ``customs-sim sign`` command and the tests
sign with :func:`sign_headers`. The gateway has its own client and must not import this module:
two independent implementations of one written contract is what keeps the contract honest.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from urllib.parse import quote

__all__ = ["HEADER_NAMES", "canonical_query", "sign", "sign_headers", "string_to_sign"]

HEADER_NAMES = ("appId", "timestamp", "nonce", "sign")
_RFC3986_SAFE = "-_.~"


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Decoded pairs sorted by name then value, each ``quote(name)=quote(value)``, joined by ``&``."""
    return "&".join(
        f"{quote(name, safe=_RFC3986_SAFE)}={quote(value, safe=_RFC3986_SAFE)}"
        for name, value in sorted(pairs)
    )


def string_to_sign(method: str, path: str, query: str, body: bytes, timestamp: str, nonce: str) -> str:
    """Six lines joined by ``\\n``, no trailing newline; ``path`` exactly as sent (percent-encoded)."""
    return "\n".join((method.upper(), path, query, hashlib.sha256(body).hexdigest(), timestamp, nonce))


def sign(secret: str, message: str) -> str:
    """Lowercase hex HMAC-SHA256 of ``message`` keyed with ``secret`` (both UTF-8)."""
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign_headers(
    app_id: str,
    secret: str,
    method: str,
    path: str,
    query_pairs: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    now_ms: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four auth headers of one request.

    ``path`` must be the path exactly as it goes on the wire (already percent-encoded) and
    ``query_pairs`` the decoded query parameters the request sends.
    """
    timestamp = str(int(time.time() * 1000) if now_ms is None else now_ms)
    nonce = secrets.token_hex(16) if nonce is None else nonce
    message = string_to_sign(method, path, canonical_query(query_pairs), body, timestamp, nonce)
    return {"appId": app_id, "timestamp": timestamp, "nonce": nonce, "sign": sign(secret, message)}
