"""Admin surface shared by both simulated authorities: request counters and fault injection.

:class:`AdminMiddleware` wraps a simulator's ASGI app from outside, so the simulators themselves
stay plain. Under ``/__admin/`` (header ``X-Admin-Token`` required) it serves:

- ``GET /__admin/counters``: requests per endpoint (``"GET /gacc/api/v1/ports"``, route templates,
  so ids don't explode the keys) plus the number of injected faults by kind; ``DELETE`` resets them;
- ``GET /__admin/faults``: the fault configuration; ``PUT`` replaces it (JSON, see :class:`Faults`),
  ``PATCH`` changes some fields, ``DELETE`` restores the defaults.

Faults apply to every other request, in this order: full outage (503), rate limiting (429 with
``Retry-After``), hangs (the request waits ``hang_s`` before being served), added latency with
jitter, errors (``error_status``) and malformed bodies (the real answer, truncated and garbled).
Randomness comes from a seeded generator so fault runs are reproducible.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import random
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.routing import BaseRoute, Match

__all__ = ["ADMIN_PREFIX", "AdminMiddleware", "AdminState", "Faults"]

ADMIN_PREFIX = "/__admin"
_OUTAGE_PAGE = b"<html><body><h1>503 Service Unavailable</h1></body></html>"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Faults:
    """What to break. Rates are probabilities per request in [0, 1]."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0  # uniform extra latency in [0, jitter_ms]
    error_rate: float = 0.0
    error_status: int = 500
    hang_rate: float = 0.0
    hang_s: float = 30.0
    rate_limit_rate: float = 0.0
    retry_after_s: int = 1
    malformed_rate: float = 0.0
    outage: bool = False
    path_prefix: str = ""  # only requests whose path starts with this are affected
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("error_rate", "hang_rate", "rate_limit_rate", "malformed_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1]")
        for name in ("latency_ms", "jitter_ms", "hang_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if not 400 <= self.error_status <= 599:
            raise ValueError("error_status must be a 4xx or 5xx status")
        if self.retry_after_s < 0:
            raise ValueError("retry_after_s must not be negative")

    @classmethod
    def from_json(cls, data: Any, base: Faults | None = None) -> Faults:
        if not isinstance(data, dict):
            raise ValueError("faults must be a JSON object")
        known = {f.name: f.type for f in dataclasses.fields(cls)}
        unknown = set(data) - set(known)
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        start = dataclasses.asdict(base) if base is not None else {}
        merged = {**start, **data}
        for name, value in merged.items():
            if known[name] == "bool":
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be a boolean")
            elif known[name] == "str":
                if not isinstance(value, str):
                    raise ValueError(f"{name} must be a string")
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number")
        return cls(**merged)


@dataclass(slots=True)
class AdminState:
    """Counters and faults of one simulator; shared by the middleware and in-process callers."""

    token: str
    default_faults: Faults = field(default_factory=Faults)
    faults: Faults = field(init=False)
    requests: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.set_faults(self.default_faults)

    def set_faults(self, faults: Faults) -> None:
        self.faults = faults
        self.rng = random.Random(faults.seed)

    def reset_counters(self) -> None:
        self.requests.clear()
        self.injected.clear()

    def snapshot(self) -> dict[str, Any]:
        return {
            "total": sum(self.requests.values()),
            "endpoints": dict(sorted(self.requests.items())),
            "injected": dict(sorted(self.injected.items())),
        }


class AdminMiddleware:
    def __init__(self, app: ASGIApp, state: AdminState, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.state = state
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            await self._admin(scope, receive, send)
            return
        self.state.requests[self._endpoint(scope)] += 1
        faults = self.state.faults
        if faults.path_prefix and not path.startswith(faults.path_prefix):
            await self.app(scope, receive, send)
            return
        await self._faulty(scope, receive, send, faults)

    def _endpoint(self, scope: Scope) -> str:
        method = scope["method"]
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return f"{method} {getattr(route, 'path', scope['path'])}"
        return f"{method} (unrouted)"

    async def _faulty(self, scope: Scope, receive: Receive, send: Send, faults: Faults) -> None:
        rng = self.state.rng
        injected = self.state.injected
        if faults.outage:
            injected["outage"] += 1
            await _plain(send, 503, _OUTAGE_PAGE, "text/html")
            return
        if faults.rate_limit_rate and rng.random() < faults.rate_limit_rate:
            injected["rate_limit"] += 1
            retry_after = [(b"retry-after", str(faults.retry_after_s).encode())]
            await _plain(send, 429, b"Too Many Requests", "text/plain", retry_after)
            return
        if faults.hang_rate and rng.random() < faults.hang_rate:
            injected["hang"] += 1
            await asyncio.sleep(faults.hang_s)
        delay_ms = faults.latency_ms + (rng.uniform(0, faults.jitter_ms) if faults.jitter_ms else 0.0)
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        if faults.error_rate and rng.random() < faults.error_rate:
            injected["error"] += 1
            await _plain(send, faults.error_status, b"upstream error (injected)", "text/plain")
            return
        if faults.malformed_rate and rng.random() < faults.malformed_rate:
            injected["malformed"] += 1
            await self.app(scope, receive, _garbling(send, rng))
            return
        await self.app(scope, receive, send)

    async def _admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        given = headers.get(b"x-admin-token", b"")
        if not hmac.compare_digest(given, self.state.token.encode()):
            await _json(send, 401, {"error": "invalid or missing X-Admin-Token"})
            return
        body = await _read_body(receive)
        method: str = scope["method"]
        resource = scope["path"][len(ADMIN_PREFIX) :].strip("/")
        state = self.state
        if resource == "counters" and method == "GET":
            await _json(send, 200, state.snapshot())
        elif resource == "counters" and method == "DELETE":
            state.reset_counters()
            await _json(send, 200, state.snapshot())
        elif resource == "faults" and method == "GET":
            await _json(send, 200, dataclasses.asdict(state.faults))
        elif resource == "faults" and method in ("PUT", "PATCH"):
            try:
                data = orjson.loads(body or b"{}")
                base = state.faults if method == "PATCH" else state.default_faults
                faults = Faults.from_json(data, base=base)
            except (orjson.JSONDecodeError, ValueError, TypeError) as exc:
                await _json(send, 400, {"error": str(exc)})
                return
            state.set_faults(faults)
            await _json(send, 200, dataclasses.asdict(faults))
        elif resource == "faults" and method == "DELETE":
            state.set_faults(state.default_faults)
            await _json(send, 200, dataclasses.asdict(state.faults))
        elif resource in ("counters", "faults"):
            await _json(send, 405, {"error": f"method {method} not allowed"})
        else:
            await _json(send, 404, {"error": "unknown admin resource"})


def _garbling(send: Send, rng: random.Random) -> Send:
    """Wrap ``send`` so the answer keeps its status and type but its body is cut and corrupted."""
    chunks: list[bytes] = []
    start: Message = {}

    async def garbled_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        cut = body[: max(1, int(len(body) * rng.uniform(0.2, 0.8)))] if body else b""
        garbage = cut + b"\x00\xff<<{{garbled"
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(garbage)).encode()))
        await send({"type": "http.response.start", "status": start.get("status", 200), "headers": headers})
        await send({"type": "http.response.body", "body": garbage})

    return garbled_send


async def _read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


async def _plain(
    send: Send,
    status: int,
    body: bytes,
    content_type: str,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    headers.extend(extra_headers or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _json(send: Send, status: int, payload: Any) -> None:
    await _plain(send, status, orjson.dumps(payload), "application/json")
