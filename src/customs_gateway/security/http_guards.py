"""HTTP-level protections around the whole app: security headers on every response, CORS for the
configured front-ends, and a bound on request bodies and query strings.

The Content-Security-Policy of API answers allows nothing (they are JSON, never rendered); the
GraphiQL page, when the IDE is on, gets a policy that allows exactly its inline script (by hash,
computed from the page strawberry serves) and the pinned CDN it loads GraphiQL from.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .limits_config import CorsSettings, HeaderSettings
from .refusal import refusal_response

__all__ = ["BodyLimitMiddleware", "SecurityHeadersMiddleware", "cors_middleware", "ide_content_security_policy"]

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_CDN = "https://unpkg.com"


def ide_content_security_policy(page: str, frame_ancestors: str = "'none'") -> str:
    """The CSP for the GraphiQL page ``page``: its inline scripts by hash, scripts and styles from
    the CDN it names, requests only to this origin."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'none'; script-src 'self' {_CDN} {hashes}; style-src 'self' 'unsafe-inline' {_CDN}; "
        f"img-src 'self' data: {_CDN}; font-src 'self' data: {_CDN}; connect-src 'self'; "
        f"frame-ancestors {frame_ancestors}; base-uri 'none'; form-action 'self'"
    )


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response (errors and refusals included)."""

    def __init__(self, app: ASGIApp, *, settings: HeaderSettings, ide_csp: str | None = None) -> None:
        self.app = app
        self._ide_csp = ide_csp
        self._headers = {
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": settings.referrer_policy,
            "X-Frame-Options": "DENY" if settings.frame_ancestors == "'none'" else "SAMEORIGIN",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        self._api_csp = API_CSP.replace("frame-ancestors 'none'", f"frame-ancestors {settings.frame_ancestors}")
        if settings.hsts:
            subdomains = "; includeSubDomains" if settings.hsts_include_subdomains else ""
            self._headers["Strict-Transport-Security"] = f"max-age={settings.hsts_max_age_s}{subdomains}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self._headers.items():
                    headers.setdefault(name, value)
                html = headers.get("content-type", "").startswith("text/html")
                headers.setdefault(
                    "Content-Security-Policy", self._ide_csp if html and self._ide_csp else self._api_csp
                )
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cors_middleware(settings: CorsSettings) -> list[Middleware]:
    """Starlette's CORS middleware for the configured origins; none configured, none installed."""
    if not settings.allow_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.allow_origins),
            allow_methods=list(settings.allow_methods),
            allow_headers=list(settings.allow_headers),
            expose_headers=list(settings.expose_headers),
            allow_credentials=settings.allow_credentials,
            max_age=settings.max_age_s,
        )
    ]


class _BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """At most ``max_body_bytes`` of request body (declared or streamed) and ``max_query_string``
    bytes of query string on ``paths``: 413 / 414 before anything reads or parses them."""

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, max_query_string: int, paths: tuple[str, ...] = ("/graphql",)
    ) -> None:
        self.app = app
        self._max_body = max_body_bytes
        self._max_query = max_query_string
        self._paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self._paths:
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self._max_query:
            message = f"query string exceeds the limit of {self._max_query} bytes"
            await refusal_response(414, message, "URI_TOO_LONG")(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self._max_body):
            await self._too_large(scope, receive, send)
            return
        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max_body:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"request body exceeds the limit of {self._max_body} bytes"
        await refusal_response(413, message, "PAYLOAD_TOO_LARGE", {"max": self._max_body})(scope, receive, send)
