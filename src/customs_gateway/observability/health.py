"""``/healthz`` (the process is alive) and ``/readyz`` (send it traffic?), as Starlette endpoints.

The readiness rule, and why
---------------------------
``/readyz`` answers **503 only when this process cannot serve**: it has not finished starting, is
shutting down, or its ``serving`` check says so (the app passes a callable it flips in the lifespan).
An upstream's state never makes it 503. An authority's outage is seen by every replica at once:
failing readiness on it would take every replica out of the load balancer and turn a partial
outage (one authority down; the other one, the cache and the typed errors still fine) into a total
one, with nothing gained since no replica could do better. So upstream states are *reported*:

    gateway "ok"          every circuit closed                                 200
    gateway "degraded"    some circuit open or half-open (serving partially)   200
    gateway "unavailable" the process itself cannot serve                      503

and per upstream ``"ok"`` (closed), ``"degraded"`` (half-open: probing) or ``"down"`` (open).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..resilience import CircuitState, UpstreamStatus

__all__ = ["StatusSource", "healthz_endpoint", "readiness", "readyz_endpoint"]

Endpoint = Callable[[Request], Awaitable[Response]]
_UPSTREAM_STATUS = {CircuitState.CLOSED: "ok", CircuitState.HALF_OPEN: "degraded", CircuitState.OPEN: "down"}


class StatusSource(Protocol):
    """Anything that reports an upstream's status; :class:`~customs_gateway.resilience.UpstreamGuard` does."""

    def status(self) -> UpstreamStatus: ...


def healthz_endpoint() -> Endpoint:
    """Alive: the event loop runs and answers. Checks nothing else, on purpose (a liveness probe
    that fails on a dependency gets a healthy process restarted for someone else's outage)."""

    async def endpoint(request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    return endpoint


def readiness(guards: Sequence[StatusSource], *, serving: bool) -> tuple[int, dict[str, Any]]:
    """The status code and body of /readyz (see the module's docstring for the rule)."""
    upstreams = {status.authority.value: _describe(status) for status in (g.status() for g in guards)}
    if not serving:
        overall = "unavailable"
    elif all(entry["status"] == "ok" for entry in upstreams.values()):
        overall = "ok"
    else:
        overall = "degraded"
    return (503 if overall == "unavailable" else 200), {"status": overall, "upstreams": upstreams}


def readyz_endpoint(
    guards: Sequence[StatusSource] | Callable[[Request], Sequence[StatusSource]],
    *,
    serving: Callable[[], bool] = lambda: True,
) -> Endpoint:
    """``Route("/readyz", readyz_endpoint(...))``.

    ``guards`` is the list itself or, when the guards live in lifespan state and do not exist yet
    when routes are built, a function of the request that finds them (``lambda r: r.state.guards``).
    """

    async def endpoint(request: Request) -> Response:
        found = guards(request) if callable(guards) else guards
        code, body = readiness(found, serving=serving())
        return JSONResponse(body, status_code=code, headers={"cache-control": "no-store"})

    return endpoint


def _describe(status: UpstreamStatus) -> dict[str, Any]:
    breaker = status.breaker
    return {
        "status": _UPSTREAM_STATUS[breaker.state],
        "circuit": breaker.state.value,
        "consecutive_failures": breaker.consecutive_failures,
        "retry_after_s": None if breaker.retry_after_s is None else round(breaker.retry_after_s, 3),
        "last_error": breaker.last_error,
        "last_success_at": _instant(breaker.last_success_at),
        "last_failure_at": _instant(breaker.last_failure_at),
        "latency_ms": {"p50": breaker.latency_p50_ms, "p95": breaker.latency_p95_ms},
        "in_flight": status.in_flight,
        "waiting": status.waiting,
        "concurrency_limit": status.concurrency_limit,
    }


def _instant(epoch_s: float | None) -> str | None:
    if epoch_s is None:
        return None
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).isoformat(timespec="milliseconds")
