"""Both clients under their guard: retries of reads only, one breaker per authority (the KGD token
request included), timeouts, the request id sent upstream, bounded endpoint labels.

The network is swapped (``httpx.MockTransport``): hangs and exact failure sequences on demand.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import stamina

from customs_gateway.domain import Authority
from customs_gateway.errors import UpstreamContract, UpstreamTimeout, UpstreamUnavailable
from customs_gateway.observability import GatewayMetrics, bind_request_id
from customs_gateway.resilience import CircuitOpen, CircuitState, ResilienceConfig, UpstreamGuard, operation_deadline
from customs_gateway.sources.china import ChinaClient, ChinaSourceImpl, ChinaSourceSettings
from customs_gateway.sources.china.client import china_guard
from customs_gateway.sources.china.client import endpoint_template as china_template
from customs_gateway.sources.kazakhstan import KazakhstanClient, KazakhstanSourceSettings, TokenProvider
from customs_gateway.sources.kazakhstan.client import endpoint_template as kgd_template
from customs_gateway.sources.kazakhstan.client import kazakhstan_guard, resource_path
from customs_gateway.sources.transport import AiohttpBodyTransport

NS = "urn:kz:kgd:astana1:sim:v1"
Handler = Callable[[httpx.Request], httpx.Response]
BREAKER = {"failure_threshold": 2, "failure_rate": None, "open_s": 30.0}


@pytest.fixture(autouse=True)
def fast_retries() -> Iterator[None]:
    with stamina.set_testing(True, attempts=3, cap=True):
        yield


class Recorder:
    def __init__(self, answers: list[Handler | httpx.Response]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return answer(request) if callable(answer) else answer


def envelope(data: object) -> httpx.Response:
    return httpx.Response(200, json={"code": "0000", "message": "ok", "data": data})


def china(recorder: Recorder, metrics: GatewayMetrics | None = None, **changes: Any) -> ChinaClient:
    settings = ChinaSourceSettings(base_url="http://gacc.test", app_id="gw", app_secret="cn-secret", **changes)
    http = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    return ChinaClient(settings, http, guard=china_guard(settings, observer=metrics))


def test_endpoint_labels_never_carry_ids() -> None:
    assert china_template(("road-manifests", "9403E2025112800123")) == "/gacc/api/v1/road-manifests/{id}"
    assert china_template(("inspections", "batch-query")) == "/gacc/api/v1/inspections/batch-query"
    assert china_template(("ports",)) == "/gacc/api/v1/ports"
    assert kgd_template(resource_path("preliminary-information", "55201011-281125-0001234")) == (
        "/api/v1/preliminary-information/{id}"
    )
    assert kgd_template("/control-results/batch") == "/api/v1/control-results/batch"
    assert kgd_template("/checkpoints") == "/api/v1/checkpoints"


async def test_a_read_is_retried_with_a_fresh_signature_and_the_request_id_on_every_attempt() -> None:
    recorder = Recorder([httpx.Response(503), envelope({"ports": []})])
    metrics = GatewayMetrics()
    with bind_request_id("req-guarded-0001"):
        assert await china(recorder, metrics).get(("ports",)) == {"ports": []}
    assert len(recorder.requests) == 2
    assert {r.headers["X-Request-ID"] for r in recorder.requests} == {"req-guarded-0001"}
    assert len({r.headers["nonce"] for r in recorder.requests}) == 2  # a replayed nonce is E4005
    sample = metrics.registry.get_sample_value
    labels = {"authority": "GACC", "endpoint": "GET /gacc/api/v1/ports"}
    assert sample("customs_gateway_upstream_requests_total", {**labels, "outcome": "unavailable"}) == 1
    assert sample("customs_gateway_upstream_requests_total", {**labels, "outcome": "ok"}) == 1
    assert sample("customs_gateway_upstream_retries_total", labels) == 1


async def test_a_non_idempotent_post_is_sent_once_but_a_batch_query_is_retried() -> None:
    recorder = Recorder([httpx.Response(503)])
    client = china(recorder)
    with pytest.raises(UpstreamUnavailable):
        await client.post(("road-manifests", "batch-query"), {"batchNos": ["X"]})
    assert len(recorder.requests) == 1
    recorder.requests.clear()
    source = ChinaSourceImpl(ChinaSourceSettings(base_url="http://gacc.test", app_id="gw", app_secret="s"), client)
    with pytest.raises(UpstreamUnavailable):
        await source.manifests(["9403E2025112800123"])
    assert len(recorder.requests) == 3  # stamina's test mode: 3 attempts, no sleeping


async def test_the_breaker_opens_and_then_fails_fast_without_calling() -> None:
    recorder = Recorder([httpx.Response(503)])
    client = china(recorder, breaker=BREAKER, retry={"attempts": 1})
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            await client.get(("ports",))
    started = time.perf_counter()
    with pytest.raises(CircuitOpen) as raised:
        await client.get(("ports",))
    assert time.perf_counter() - started < 0.05
    assert len(recorder.requests) == 2
    assert raised.value.code == "UPSTREAM_UNAVAILABLE" and raised.value.authority is Authority.GACC
    assert raised.value.retry_after_s is not None and 0 < raised.value.retry_after_s <= 30.0


async def test_a_hanging_answer_times_out_at_the_total_timeout() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return envelope({})

    settings = ChinaSourceSettings(
        base_url="http://gacc.test", app_id="gw", app_secret="s", total_timeout_s=0.1, retry={"attempts": 1}
    )
    client = ChinaClient(settings, httpx.AsyncClient(transport=httpx.MockTransport(hang)))
    started = time.perf_counter()
    with pytest.raises(UpstreamTimeout):
        await client.get(("ports",))
    assert time.perf_counter() - started < 1.0


async def test_the_operation_deadline_cuts_a_longer_upstream_timeout() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return envelope({})

    settings = ChinaSourceSettings(base_url="http://gacc.test", app_id="gw", app_secret="s", total_timeout_s=10)
    client = ChinaClient(settings, httpx.AsyncClient(transport=httpx.MockTransport(hang)))
    started = time.perf_counter()
    with operation_deadline(0.15), pytest.raises(UpstreamTimeout) as raised:
        await client.get(("ports",))
    assert time.perf_counter() - started < 1.0
    assert raised.value.code == "UPSTREAM_TIMEOUT"


# -- Kazakhstan: the token request shares the authority's guard ---------------------------------


Wired = tuple[KazakhstanClient, Recorder, Recorder, UpstreamGuard]


def kgd(api: Handler, token: Handler | None = None, **changes: Any) -> Wired:
    settings = KazakhstanSourceSettings(
        base_url="http://kgd.test", client_id="gw", client_secret="kz-secret", **changes
    )
    api_calls = Recorder([api])
    token_calls = Recorder([token or (lambda r: httpx.Response(200, json={"access_token": "tok", "expires_in": 900}))])

    async def route(request: httpx.Request) -> httpx.Response:
        return await (token_calls if request.url.path == "/auth/token" else api_calls)(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(route))
    guard = kazakhstan_guard(settings, ResilienceConfig(per_upstream={Authority.KGD: settings.policy()}))
    tokens = TokenProvider(settings, http, guard=guard)
    return KazakhstanClient(settings, http, tokens, guard=guard), api_calls, token_calls, guard


def checkpoints(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=f'<Checkpoints xmlns="{NS}"/>'.encode())


async def test_a_token_endpoint_that_is_down_opens_the_authoritys_breaker() -> None:
    client, api_calls, token_calls, _ = kgd(
        checkpoints, token=lambda r: httpx.Response(503), breaker=BREAKER, retry={"attempts": 1}
    )
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            await client.get("/checkpoints")
    with pytest.raises(CircuitOpen):
        await client.get("/checkpoints")
    assert (len(token_calls.requests), len(api_calls.requests)) == (2, 0)


async def test_the_token_request_is_retried_and_carries_the_request_id() -> None:
    answers: list[Handler | httpx.Response] = [
        httpx.Response(502),
        httpx.Response(200, json={"access_token": "tok", "expires_in": 900}),
    ]
    client, api_calls, token_calls, _ = kgd(checkpoints)
    token_calls.answers = answers
    with bind_request_id("req-guarded-0002"):
        root, _ = await client.get("/checkpoints")
    assert root.tag == f"{{{NS}}}Checkpoints"
    assert len(token_calls.requests) == 2
    sent = [*token_calls.requests, *api_calls.requests]
    assert {r.headers["X-Request-ID"] for r in sent} == {"req-guarded-0002"}
    assert "kz-secret" not in str(api_calls.requests[0].headers)


async def test_a_hostile_body_is_a_contract_error_and_leaves_the_circuit_closed() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b'<Checkpoints xmlns="urn:kz:kgd:astana1:sim:v1">&lol2;</Checkpoints>'
    )
    client, api_calls, _, guard = kgd(lambda r: httpx.Response(200, content=bomb), breaker=BREAKER)
    for _ in range(3):
        with pytest.raises(UpstreamContract):
            await client.get("/checkpoints")
    assert len(api_calls.requests) == 3  # never retried (same request, same answer), never fast-failed
    assert guard.breaker.state is CircuitState.CLOSED


# -- a refused connection is "unavailable", whatever the transport calls it ----------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens there now: connecting is refused


async def test_a_refused_connection_over_aiohttp_is_unavailable_not_a_timeout() -> None:
    # The aiohttp transport reports a refused connection as httpx.ConnectTimeout (sources/net.py).
    url = f"http://127.0.0.1:{closed_port()}"
    cn_settings = ChinaSourceSettings(base_url=url, app_id="gw", app_secret="s", retry={"attempts": 1})
    kz_settings = KazakhstanSourceSettings(base_url=url, client_id="gw", client_secret="s", retry={"attempts": 1})
    async with (
        httpx.AsyncClient(transport=AiohttpBodyTransport(cn_settings.httpx_limits(), max_body_bytes=1024)) as cn_http,
        httpx.AsyncClient(transport=AiohttpBodyTransport(kz_settings.httpx_limits(), max_body_bytes=1024)) as kz_http,
    ):
        with pytest.raises(UpstreamUnavailable, match="refused") as china_error:
            await ChinaClient(cn_settings, cn_http).get(("ports",))
        tokens = TokenProvider(kz_settings, kz_http)
        with pytest.raises(UpstreamUnavailable, match="refused") as kgd_error:
            await KazakhstanClient(kz_settings, kz_http, tokens).get("/checkpoints")
    assert not isinstance(china_error.value, UpstreamTimeout) and not isinstance(kgd_error.value, UpstreamTimeout)


async def test_a_connect_timeout_that_is_one_stays_a_timeout() -> None:
    def slow_connect(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    settings = ChinaSourceSettings(base_url="http://gacc.test", app_id="gw", app_secret="s", retry={"attempts": 1})
    client = ChinaClient(settings, httpx.AsyncClient(transport=httpx.MockTransport(slow_connect)))
    with pytest.raises(UpstreamTimeout):
        await client.get(("ports",))
