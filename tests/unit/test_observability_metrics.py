"""Metrics: per-app registries, the series the guards, the cache and the GraphQL layer produce,
and the /metrics exposition read back with prometheus_client's own parser."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import stamina
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.routing import Route

from customs_gateway.domain import Authority
from customs_gateway.errors import UpstreamUnavailable
from customs_gateway.observability import GatewayMetrics, metrics_endpoint
from customs_gateway.resilience import (
    BreakerConfig,
    CircuitOpen,
    CircuitState,
    ManualClock,
    Outcome,
    UpstreamGuard,
    UpstreamPolicy,
)

KGD = Authority.KGD


@pytest.fixture(autouse=True)
def no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=2, cap=True):
        yield


async def scrape(metrics: GatewayMetrics, accept: str | None = None) -> httpx.Response:
    app = Starlette(routes=[Route("/metrics", metrics_endpoint(metrics))])
    headers = {"accept": accept} if accept else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        return await client.get("/metrics", headers=headers)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


async def test_exposition_carries_the_upstream_series_after_guarded_calls() -> None:
    metrics = GatewayMetrics()
    policy = UpstreamPolicy(breaker=BreakerConfig(failure_threshold=2, failure_rate=None))
    guard = UpstreamGuard(
        KGD, policy, total_timeout_s=5.0, default_deadline_s=5.0, observer=metrics, clock=ManualClock()
    )
    failures = [UpstreamUnavailable(KGD, "HTTP 503")]

    async def flaky() -> str:
        if failures:
            raise failures.pop()
        return "ok"

    async def down() -> str:
        raise UpstreamUnavailable(KGD, "HTTP 503")

    assert await guard.call("declaration.get", True, flaky) == "ok"  # unavailable, then ok on retry
    with pytest.raises(UpstreamUnavailable):
        await guard.call("declaration.get", True, down)  # two failures: the circuit opens
    with pytest.raises(CircuitOpen):
        await guard.call("declaration.get", True, down)

    response = await scrape(metrics)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(response.text)
    series = "customs_gateway_upstream_requests_total"
    assert value(found, series, authority="KGD", endpoint="declaration.get", outcome="ok") == 1
    assert value(found, series, authority="KGD", endpoint="declaration.get", outcome="unavailable") == 3
    assert value(found, series, authority="KGD", endpoint="declaration.get", outcome="circuit_open") == 1
    histogram = "customs_gateway_upstream_request_duration_seconds_count"
    assert value(found, histogram, authority="KGD", endpoint="declaration.get", outcome="unavailable") == 3
    assert value(found, "customs_gateway_upstream_retries_total", authority="KGD", endpoint="declaration.get") == 2
    assert value(found, "customs_gateway_upstream_circuit_state", authority="KGD", state="open") == 1
    assert value(found, "customs_gateway_upstream_circuit_state", authority="KGD", state="closed") == 0


async def test_cache_and_graphql_series() -> None:
    metrics = GatewayMetrics()
    metrics.cache.hit("manifest", 3)
    metrics.cache.miss("manifest")
    metrics.cache.stale("rate")
    metrics.cache.evicted("manifest", 2)
    metrics.cache.backend_error("get")
    metrics.graphql_operation("Dashboard", 0.2)
    metrics.graphql_operation("Dashboard", 0.3, ["UPSTREAM_TIMEOUT", "UPSTREAM_TIMEOUT", "UPSTREAM_UNAVAILABLE"])
    metrics.graphql_operation(None, 0.01)
    metrics.graphql_operation("drop table; --", 0.01)
    found = samples((await scrape(metrics)).text)
    assert value(found, "customs_gateway_cache_hits_total", resource="manifest") == 3
    assert value(found, "customs_gateway_cache_misses_total", resource="manifest") == 1
    assert value(found, "customs_gateway_cache_stale_serves_total", resource="rate") == 1
    assert value(found, "customs_gateway_cache_evictions_total", resource="manifest") == 2
    assert value(found, "customs_gateway_cache_backend_errors_total", operation="get") == 1
    ops = "customs_gateway_graphql_operations_total"
    assert value(found, ops, operation="Dashboard", outcome="ok") == 1
    assert value(found, ops, operation="Dashboard", outcome="error") == 1
    assert value(found, ops, operation="anonymous", outcome="ok") == 1
    assert value(found, ops, operation="invalid", outcome="ok") == 1
    errors = "customs_gateway_graphql_errors_total"
    assert value(found, errors, operation="Dashboard", code="UPSTREAM_TIMEOUT") == 2
    assert value(found, errors, operation="Dashboard", code="UPSTREAM_UNAVAILABLE") == 1
    assert value(found, "customs_gateway_graphql_operation_duration_seconds_count", operation="Dashboard") == 2


async def test_label_values_from_outside_are_capped() -> None:
    metrics = GatewayMetrics(operation_limit=2)
    for name in ("A", "B", "C", "D", "A"):
        metrics.graphql_operation(name, 0.01)
    found = samples((await scrape(metrics)).text)
    ops = "customs_gateway_graphql_operations_total"
    assert value(found, ops, operation="A", outcome="ok") == 2
    assert value(found, ops, operation="other", outcome="ok") == 2
    assert value(found, ops, operation="C", outcome="ok") is None


async def test_apps_have_separate_registries() -> None:
    first, second = GatewayMetrics(), GatewayMetrics()  # no "Duplicated timeseries" error
    first.upstream_attempt(KGD, "rate.get", Outcome.OK, 0.1, 1)
    second.circuit_state(KGD, CircuitState.CLOSED)
    found = samples((await scrape(second)).text)
    requests = "customs_gateway_upstream_requests_total"
    assert value(found, requests, authority="KGD", endpoint="rate.get", outcome="ok") is None
    assert value(found, "customs_gateway_upstream_circuit_state", authority="KGD", state="closed") == 1


async def test_openmetrics_when_asked_for() -> None:
    metrics = GatewayMetrics()
    metrics.cache.hit("manifest")
    response = await scrape(metrics, accept="application/openmetrics-text; version=1.0.0")
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")
