"""The gateway's one exception hierarchy.

::

    GatewayError                       code                  meaning for a client
    ├── InvalidInput                   BAD_USER_INPUT        the query's arguments cannot be understood
    ├── Unauthenticated                UNAUTHENTICATED       no, or no valid, credentials (HTTP 401)
    ├── Forbidden                      FORBIDDEN             this client's role may not see that field/trip
    ├── LimitExceeded                  QUERY_TOO_COMPLEX     over a configured operation limit (depth, aliases,
    │   │                                                    tokens, size, cost): refused before any upstream call
    │   └── PageSizeExceeded           BAD_USER_INPUT        ``first`` larger than the page size limit
    ├── PersistedQueryNotFound         PERSISTED_QUERY_NOT_FOUND    APQ: send the document with its hash
    ├── PersistedQueryNotAllowed       PERSISTED_QUERY_NOT_ALLOWED  allow-list mode: not a listed operation
    └── UpstreamError                  (one per subclass)    an authority's API failed us; carries .authority
        ├── UpstreamUnavailable        UPSTREAM_UNAVAILABLE  connection refused/reset, 5xx, 429, outage
        ├── UpstreamTimeout            UPSTREAM_TIMEOUT      no answer in time
        ├── UpstreamRejected           UPSTREAM_REJECTED     the authority refused us (credentials, parameters)
        └── UpstreamContract           UPSTREAM_CONTRACT     the answer broke the wire contract (malformed,
                                                             hostile, wrong types, missing fields)

Foreign exceptions (httpx, XML parsers, ``KeyError`` in a payload) are translated at exactly one
boundary per source with ``raise … from exc``; the schema layer maps ``code`` to
``extensions.code`` in one place. Messages never contain secrets, tokens or signatures.
"""

from __future__ import annotations

from .domain import Authority

__all__ = [
    "Forbidden",
    "GatewayError",
    "InvalidInput",
    "LimitExceeded",
    "PageSizeExceeded",
    "PersistedQueryNotAllowed",
    "PersistedQueryNotFound",
    "Unauthenticated",
    "UpstreamContract",
    "UpstreamError",
    "UpstreamRejected",
    "UpstreamTimeout",
    "UpstreamUnavailable",
]


class GatewayError(Exception):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(GatewayError):
    code = "BAD_USER_INPUT"


class Unauthenticated(GatewayError):
    """Missing or invalid credentials. ``challenge`` is the ``WWW-Authenticate`` error code
    (RFC 6750: ``invalid_token``; ``None`` when nothing was presented). The message says what
    kind of problem it was, never which part of a credential was wrong."""

    code = "UNAUTHENTICATED"

    def __init__(self, message: str, *, challenge: str | None = "invalid_token") -> None:
        super().__init__(message)
        self.challenge = challenge


class Forbidden(GatewayError):
    code = "FORBIDDEN"
class LimitExceeded(GatewayError):
    """An operation over one configured limit. ``limit`` names it (``depth``, ``aliases``, ``tokens``,
    ``querySize``, ``cost``, ``batch``, ``pageSize``), ``actual`` and ``maximum`` are the figures, so a
    client can tell what to shrink without guessing."""

    code = "QUERY_TOO_COMPLEX"

    def __init__(self, limit: str, actual: int, maximum: int, message: str) -> None:
        super().__init__(message)
        self.limit = limit
        self.actual = actual
        self.maximum = maximum


class PageSizeExceeded(LimitExceeded):
    """A page larger than allowed is a wrong argument, not a complex query."""

    code = "BAD_USER_INPUT"


class PersistedQueryNotFound(GatewayError):
    """Apollo's automatic persisted queries: the hash is unknown here, send the document with it."""

    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotFound")


class PersistedQueryNotAllowed(GatewayError):
    """Allow-list mode: only the operations listed in the configuration are served."""

    code = "PERSISTED_QUERY_NOT_ALLOWED"


class UpstreamError(GatewayError):
    code = "UPSTREAM_ERROR"

    def __init__(self, authority: Authority, message: str, *, endpoint: str | None = None) -> None:
        super().__init__(f"{authority.value}: {message}")
        self.authority = authority
        self.endpoint = endpoint


class UpstreamUnavailable(UpstreamError):
    code = "UPSTREAM_UNAVAILABLE"

    def __init__(
        self,
        authority: Authority,
        message: str,
        *,
        endpoint: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(authority, message, endpoint=endpoint)
        self.retry_after_s = retry_after_s


class UpstreamTimeout(UpstreamError):
    code = "UPSTREAM_TIMEOUT"


class UpstreamRejected(UpstreamError):
    code = "UPSTREAM_REJECTED"


class UpstreamContract(UpstreamError):
    code = "UPSTREAM_CONTRACT"
