"""/healthz and /readyz through a real Starlette app: content, and the 200/503 rule."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import stamina
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from customs_gateway.domain import Authority
from customs_gateway.errors import UpstreamUnavailable
from customs_gateway.observability import healthz_endpoint, readyz_endpoint
from customs_gateway.observability.health import StatusSource
from customs_gateway.resilience import BreakerConfig, ManualClock, UpstreamGuard, UpstreamPolicy


@pytest.fixture(autouse=True)
def no_retries() -> Iterator[None]:
    with stamina.set_testing(True, attempts=1):
        yield


def guard(authority: Authority, clock: ManualClock) -> UpstreamGuard:
    policy = UpstreamPolicy(breaker=BreakerConfig(failure_threshold=1, failure_rate=None, open_s=30.0))
    return UpstreamGuard(
        authority, policy, total_timeout_s=5.0, default_deadline_s=5.0, clock=clock, wall_clock=lambda: 1.7e9
    )


async def get(app: Starlette, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        return await client.get(path)


def app_for(guards: list[UpstreamGuard], serving: bool = True) -> Starlette:
    return Starlette(
        routes=[
            Route("/healthz", healthz_endpoint()),
            Route("/readyz", readyz_endpoint(guards, serving=lambda: serving)),
        ]
    )


async def down(authority: Authority) -> None:
    raise UpstreamUnavailable(authority, "connection refused (ConnectError)")


async def test_healthz_is_alive() -> None:
    response = await get(app_for([]), "/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "alive"})


async def test_readyz_all_closed_is_ok() -> None:
    clock = ManualClock()
    guards = [guard(Authority.GACC, clock), guard(Authority.KGD, clock)]

    async def answer() -> int:
        return 1

    await guards[0].call("manifest.get", True, answer)
    response = await get(app_for(guards), "/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    gacc = body["upstreams"]["GACC"]
    assert gacc["status"] == "ok" and gacc["circuit"] == "closed"
    assert gacc["last_success_at"] == "2023-11-14T22:13:20.000+00:00"
    assert gacc["latency_ms"]["p50"] == 0.0
    assert gacc["concurrency_limit"] == 16
    assert body["upstreams"]["KGD"]["last_success_at"] is None


async def test_an_open_circuit_is_reported_but_the_gateway_stays_ready() -> None:
    clock = ManualClock()
    guards = [guard(Authority.GACC, clock), guard(Authority.KGD, clock)]
    with pytest.raises(UpstreamUnavailable):
        await guards[1].call("declaration.get", True, lambda: down(Authority.KGD))
    clock.advance(10)
    response = await get(app_for(guards), "/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    kgd = body["upstreams"]["KGD"]
    assert kgd["status"] == "down" and kgd["circuit"] == "open"
    assert kgd["consecutive_failures"] == 1
    assert kgd["retry_after_s"] == 20.0
    assert kgd["last_error"] == "KGD: connection refused (ConnectError)"
    assert kgd["last_failure_at"] == "2023-11-14T22:13:20.000+00:00"
    clock.advance(20)
    assert (await get(app_for(guards), "/readyz")).json()["upstreams"]["KGD"]["status"] == "degraded"


async def test_not_serving_is_503_whatever_the_upstreams() -> None:
    response = await get(app_for([guard(Authority.GACC, ManualClock())], serving=False), "/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.headers["cache-control"] == "no-store"


async def test_guards_can_come_from_lifespan_state() -> None:
    guards = [guard(Authority.KGD, ManualClock())]

    def from_state(request: Request) -> list[StatusSource]:
        return list(request.state.guards)

    inner = Starlette(routes=[Route("/readyz", readyz_endpoint(from_state))])

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        # What a server does with the dict a lifespan yields: a copy in every request's scope.
        await inner({**scope, "state": {"guards": guards}}, receive, send)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        response = await client.get("/readyz")
    assert list(response.json()["upstreams"]) == ["KGD"]
