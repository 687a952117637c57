"""Operations end to end: /healthz, /readyz, /metrics, the request id (echoed, logged, sent upstream)
and one JSON log line per GraphQL operation and per upstream call, with no secret in any of them."""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
import stamina.instrumentation
from tests.e2e.conftest import CN_SECRET, KZ_SECRET, World, gateway_settings
from tests.security_fixtures import CUSTOMS_HEADERS, CUSTOMS_KEY

from customs_gateway.app import create_app
from customs_gateway.observability import configure_logging
from customs_gateway.sources.china import build_http_client
from customs_gateway.sources.kazakhstan import create_http_client
from customs_sim.serving import serve_in_thread

TRIP = "T20250301-KHORGOS-0001"
NAMED = "query Dashboard($id: ID!) { manifest(id: $id) { china { batchNo } kazakhstan { piNumber } } }"


@dataclass
class Observed:
    url: str
    http: httpx.Client
    upstream: list[httpx.Request]


@pytest.fixture(scope="module")
def observed(world: World) -> Iterator[Observed]:
    """A gateway whose upstream clients note every request they send (to see the headers)."""
    settings = gateway_settings(world.china.server.url, world.kazakhstan.server.url)
    sent: list[httpx.Request] = []
    loops: set[asyncio.AbstractEventLoop] = set()

    async def note(request: httpx.Request) -> None:
        sent.append(request)
        loops.add(asyncio.get_running_loop())  # the server's: where these clients must be closed

    cn_http = build_http_client(settings.china)
    kz_http = create_http_client(settings.kazakhstan)
    for http in (cn_http, kz_http):
        http.event_hooks["request"].append(note)
    app = create_app(settings, china_http=cn_http, kazakhstan_http=kz_http)
    with (
        serve_in_thread(app) as server,
        httpx.Client(base_url=server.url, timeout=30, headers=CUSTOMS_HEADERS) as client,
    ):
        yield Observed(server.url, client, sent)
        for loop in loops:  # whoever creates a client closes it
            for http in (cn_http, kz_http):
                asyncio.run_coroutine_threadsafe(http.aclose(), loop).result(10)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(logging.INFO, stream=buffer)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def ask(observed: Observed, batch_no: str, request_id: str | None = None) -> httpx.Response:
    headers = {"X-Request-ID": request_id} if request_id else {}
    response = observed.http.post("/graphql", json={"query": NAMED, "variables": {"id": batch_no}}, headers=headers)
    assert response.status_code == 200, response.text
    assert "errors" not in response.json()
    return response


def test_the_request_id_is_echoed_sent_upstream_and_on_every_log_line(
    observed: Observed, world: World, log_lines: io.StringIO
) -> None:
    trip = world.trip(TRIP)
    observed.upstream.clear()
    response = ask(observed, trip.cn_batch_no or "", request_id="e2e-ops-req-0001")
    assert response.headers["x-request-id"] == "e2e-ops-req-0001"
    assert observed.upstream, "the lookup called no authority"
    assert {request.headers["X-Request-ID"] for request in observed.upstream} == {"e2e-ops-req-0001"}
    assert {request.url.port for request in observed.upstream} == {
        httpx.URL(world.china.server.url).port,
        httpx.URL(world.kazakhstan.server.url).port,
    }
    # A call started ahead of need (the inspections a manifest lookup prefetches) may still be in
    # flight when the answer goes out: it finishes, fills the cache and writes its line just after.
    deadline = time.monotonic() + 10
    while True:
        text = log_lines.getvalue()
        lines = [orjson.loads(line) for line in text.splitlines()]
        mine = [line for line in lines if line.get("request_id") == "e2e-ops-req-0001"]
        calls = [line for line in mine if line["message"] == "upstream call"]
        if len(calls) >= len(observed.upstream) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    # (the audit log, customs_gateway.audit, writes its own line about who asked: not counted here)
    operations = [line for line in mine if line["logger"] == "customs_gateway.graphql"]
    assert len(operations) == 1
    assert operations[0]["operation"] == "Dashboard" and operations[0]["outcome"] == "ok"
    assert operations[0]["duration_ms"] > 0
    # one line per upstream exchange
    assert len(calls) == len(observed.upstream), ([c["endpoint"] for c in calls], observed.upstream)
    assert {c["authority"] for c in calls} == {"GACC", "KGD"}
    for call in calls:
        # ok, unless the loaded test machine made one attempt time out (then retried: its own line)
        assert call["outcome"] in ("ok", "timeout") and call["attempt"] >= 1, call
        assert call["duration_ms"] >= 0 and call["endpoint"].startswith(("GET /", "POST /"))
    for secret in (CN_SECRET, KZ_SECRET, CUSTOMS_KEY, "Bearer "):
        assert secret not in text


def test_a_malformed_incoming_request_id_is_replaced(observed: Observed, world: World) -> None:
    response = ask(observed, world.trip(TRIP).cn_batch_no or "", request_id="bad id\twith spaces")
    given = response.headers["x-request-id"]
    assert given != "bad id\twith spaces" and len(given) == 32


def test_metrics_show_upstream_calls_operations_errors_and_circuits(observed: Observed, world: World) -> None:
    ask(observed, world.trip(TRIP).cn_batch_no or "")
    observed.http.post("/graphql", json={"query": "query Broken { nope }"})
    response = httpx.get(observed.url + "/metrics")  # public: no credentials
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    upstream = {
        (labels["authority"], labels["endpoint"], labels["outcome"])
        for name, labels, _ in samples
        if name == "customs_gateway_upstream_requests_total"
    }
    assert ("GACC", "POST /gacc/api/v1/road-manifests/batch-query", "ok") in upstream
    assert any(authority == "KGD" and outcome == "ok" for authority, _, outcome in upstream)
    assert all("{" not in endpoint or "{id}" in endpoint for _, endpoint, _ in upstream)
    assert _value(samples, "customs_gateway_graphql_operations_total", operation="Dashboard", outcome="ok") >= 1
    assert _value(samples, "customs_gateway_graphql_operation_duration_seconds_count", operation="Dashboard") >= 1
    assert _value(samples, "customs_gateway_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") >= 1
    for authority in ("GACC", "KGD"):
        assert _value(samples, "customs_gateway_upstream_circuit_state", authority=authority, state="closed") == 1
        assert _value(samples, "customs_gateway_upstream_circuit_state", authority=authority, state="open") == 0
        count = "customs_gateway_upstream_request_duration_seconds_count"
        assert _value(samples, count, authority=authority, outcome="ok") >= 1


def test_readyz_reports_each_upstream_and_healthz_is_alive(observed: Observed, world: World) -> None:
    ask(observed, world.trip(TRIP).cn_batch_no or "")
    ready = httpx.get(observed.url + "/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ok"
    for authority in ("GACC", "KGD"):
        upstream = body["upstreams"][authority]
        assert (upstream["status"], upstream["circuit"], upstream["concurrency_limit"]) == ("ok", "closed", 20)
        assert upstream["latency_ms"]["p50"] is not None and upstream["last_success_at"] is not None
    alive = httpx.get(observed.url + "/healthz")
    assert (alive.status_code, alive.json()) == (200, {"status": "alive"})


def test_the_lifespan_freezes_the_startup_heap_and_raises_the_gc_threshold(world: World) -> None:
    # The world's gateway serves from this process: its lifespan set the collector process-wide.
    settings = gateway_settings(world.china.server.url, world.kazakhstan.server.url)
    assert gc.get_threshold()[0] == settings.server.gc_gen0_threshold == 50_000
    assert gc.get_freeze_count() > 0


async def test_readyz_is_503_until_the_lifespan_has_started(world: World) -> None:
    app = create_app(gateway_settings(world.china.server.url, world.kazakhstan.server.url))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        ready = await client.get("/readyz")  # ASGITransport runs no lifespan: nothing is built
        alive = await client.get("/healthz")
    assert (ready.status_code, ready.json()["status"]) == (503, "unavailable")
    assert alive.status_code == 200


def _samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    from prometheus_client.parser import text_string_to_metric_families

    return [
        (sample.name, dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def _value(samples: list[tuple[str, dict[str, str], float]], name: str, **labels: Any) -> float:
    return sum(value for n, found, value in samples if n == name and all(found.get(k) == v for k, v in labels.items()))


def test_stamina_reports_no_retry_itself_so_each_attempt_is_logged_and_counted_once(observed: Observed) -> None:
    # stamina's default hooks would log every retry again (and count it in the process-global
    # Prometheus registry); the app's lifespan turns them off: the guard reports each attempt.
    assert stamina.instrumentation.get_on_retry_hooks() == ()
