"""The entity cache end to end: gateways with the cache on, over the generated dataset's simulators.

Upstream requests are read from the simulators' counters, values checked against the ground truth,
cache behaviour from the app's own metrics registry. Each test starts its own gateway (a fresh
cache) over the session's simulators, and clears any fault it injects.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import DataWorld, gateway_settings, gql
from tests.integration.redis_server import running_redis_server
from tests.security_fixtures import CUSTOMS_HEADERS

from customs_gateway.app import create_app
from customs_gateway.cache import MemoryBackend
from customs_gateway.observability import GatewayMetrics
from customs_sim.admin import Faults
from customs_sim.model import Side
from customs_sim.serving import serve_in_thread

WINDOW = {"from": "2025-03-02T00:00:00Z", "to": "2025-03-03T00:00:00Z"}
DASHBOARD = """query($f: ManifestFilter) { manifests(filter: $f, first: 20) { edges { node {
    id status vehicle { plate { canonical native } }
    goods { hs6 china { tariffCode grossKg value { amount currency } } kazakhstan { tariffCode grossKg } }
    inspections { authority kind outcome }
    china { batchNo declaredAt { utc } inspections { number } }
    kazakhstan { piNumber registeredAt { utc } arrival { number } inspections { number } }
  } } pageInfo { hasNextPage endCursor } } }"""
ONE = """query($id: ID!) { manifest(id: $id) {
    id china { batchNo goods { hs6 grossKg } } kazakhstan { piNumber } inspections { number } } }"""


@contextlib.contextmanager
def cached_gateway(
    data: DataWorld, store: Any = None, metrics: GatewayMetrics | None = None, **cache: Any
) -> Iterator[httpx.Client]:
    settings = gateway_settings(data.china.server.url, data.kazakhstan.server.url, cache={"enabled": True, **cache})
    app = create_app(settings, cache_backend=store, metrics=metrics)
    with serve_in_thread(app) as server, httpx.Client(base_url=server.url, timeout=60, headers=CUSTOMS_HEADERS) as http:
        yield http


def upstream(data: DataWorld) -> dict[str, int]:
    counts = {f"CN {k}": v for k, v in data.china.counters().items()}
    counts |= {f"KZ {k}": v for k, v in data.kazakhstan.counters().items()}
    counts.pop("KZ POST /auth/token", None)
    return {k: v for k, v in counts.items() if v}


def manifest_lookups(data: DataWorld) -> dict[str, int]:
    """Upstream requests for manifest-like records (not the rates a request may prefetch)."""
    return {k: v for k, v in upstream(data).items() if "road-manifests" in k or "preliminary-information" in k}


def reset(data: DataWorld) -> None:
    data.china.reset()
    data.kazakhstan.reset()


@contextlib.contextmanager
def faults(sim: Any, **what: Any) -> Iterator[None]:
    sim.admin.set_faults(Faults(**what))
    try:
        yield
    finally:
        sim.admin.set_faults(Faults())


def sample(metrics: GatewayMetrics, name: str, resource: str) -> float:
    return metrics.registry.get_sample_value(f"customs_gateway_cache_{name}_total", {"resource": resource}) or 0.0


def check_against_truth(data: DataWorld, body: dict[str, Any]) -> None:
    edges = body["data"]["manifests"]["edges"]
    assert len(edges) == 20
    checked = 0
    for edge in edges:
        node = edge["node"]
        if node["china"] is None:
            continue
        trip = data.truth.by_cn_batch_no(node["china"]["batchNo"])
        assert trip is not None and trip.crossing == "KHORGOS"
        assert [g["hs6"] for g in node["goods"] if g["china"]] == [item.hs6 for item in trip.items]
        cn_inspections = {i.id for i in trip.inspections if i.side is Side.CN}
        assert {i["number"] for i in node["china"]["inspections"]} == cn_inspections
        if node["kazakhstan"] is not None and trip.kz_pi_number is not None:
            assert node["kazakhstan"]["piNumber"] == trip.kz_pi_number
        checked += 1
    assert checked >= 10


def test_warm_answers_equal_cold_ones_and_the_truth_with_no_upstream_request(data: DataWorld) -> None:
    with cached_gateway(data) as http:
        reset(data)
        cold = gql(http, DASHBOARD, f={**WINDOW, "crossingPoints": ["KHORGOS"]})
        assert "errors" not in cold, cold
        assert upstream(data)
        check_against_truth(data, cold)
        reset(data)
        warm = gql(http, DASHBOARD, f={**WINDOW, "crossingPoints": ["KHORGOS"]})
        assert upstream(data) == {}
        assert warm == cold


def test_a_batch_asks_the_upstream_for_the_misses_only(data: DataWorld) -> None:
    trips = [t for t in data.truth.trips() if t.cn_batch_no and Side.CN in t.seen_by][:3]
    metrics = GatewayMetrics()
    query = "query($a: ID!, $b: ID!, $c: ID!) { a: manifest(id: $a) { id } b: manifest(id: $b) { id } "
    query += "c: manifest(id: $c) { id } }"
    with cached_gateway(data, metrics=metrics) as http:
        first = gql(http, "query($id: ID!) { manifest(id: $id) { id } }", id=trips[0].cn_batch_no)
        assert first["data"]["manifest"] is not None
        hits, misses = sample(metrics, "hits", "manifest"), sample(metrics, "misses", "manifest")
        reset(data)
        body = gql(http, query, a=trips[0].cn_batch_no, b=trips[1].cn_batch_no, c=trips[2].cn_batch_no)
        assert "errors" not in body and all(body["data"][k] for k in "abc"), body
        # One multi-get: one hit (a), two misses (b, c) fetched in one batch call.
        assert sample(metrics, "hits", "manifest") - hits == 1
        assert sample(metrics, "misses", "manifest") - misses == 2
        assert upstream(data).get("CN POST /gacc/api/v1/road-manifests/batch-query") == 1


def test_not_found_is_cached_briefly_with_a_sentinel(data: DataWorld) -> None:
    unknown = "9403E2025030299999"
    assert data.truth.by_cn_batch_no(unknown) is None
    with cached_gateway(data, ttl={"not_found_s": 0.5}) as http:
        assert gql(http, ONE, id=unknown)["data"]["manifest"] is None
        time.sleep(0.1)  # the first request's rate prefetch may still be landing
        reset(data)
        assert gql(http, ONE, id=unknown)["data"]["manifest"] is None
        assert manifest_lookups(data) == {}  # the sentinel answered
        time.sleep(0.7)
        assert gql(http, ONE, id=unknown)["data"]["manifest"] is None
        assert manifest_lookups(data)  # expired: asked again


def test_entries_expire_after_their_ttl(data: DataWorld) -> None:
    trip = next(t for t in data.truth.trips() if t.crossing == "KHORGOS" and t.cn_batch_no and Side.CN in t.seen_by)
    short = {"final_s": 0.4, "in_progress_s": 0.4, "list_s": 0.4, "not_found_s": 0.4}
    with cached_gateway(data, ttl=short, stale_grace_s=0) as http:
        cold = gql(http, ONE, id=trip.cn_batch_no)
        reset(data)
        assert gql(http, ONE, id=trip.cn_batch_no) == cold
        assert upstream(data) == {}
        time.sleep(0.6)
        assert gql(http, ONE, id=trip.cn_batch_no) == cold
        assert upstream(data).get("CN POST /gacc/api/v1/road-manifests/batch-query", 0) >= 1


def test_stale_entries_are_served_in_an_outage_and_the_response_says_so(data: DataWorld) -> None:
    trip = next(t for t in data.truth.trips() if t.crossing == "KHORGOS" and t.cn_batch_no and t.kz_pi_number)
    short = {"final_s": 0.3, "in_progress_s": 0.3, "list_s": 0.3}
    with cached_gateway(data, ttl=short, stale_grace_s=60) as http:
        cold = gql(http, ONE, id=trip.cn_batch_no)
        assert "errors" not in cold and "extensions" not in cold, cold
        assert cold["data"]["manifest"]["china"]["batchNo"] == trip.cn_batch_no
        time.sleep(0.5)
        with faults(data.china, outage=True):
            stale = gql(http, ONE, id=trip.cn_batch_no)
        assert stale["data"] == cold["data"]
        assert "errors" not in stale, stale
        entries = stale["extensions"]["stale"]
        assert {e["authority"] for e in entries} >= {"CHINA"}
        assert len({(e["authority"], e["resource"]) for e in entries}) == len(entries)  # one per pair
        china = [e for e in entries if e["authority"] == "CHINA"]
        assert any(e["resource"] == "manifest" for e in china)
        assert all(0.4 <= e["ageSeconds"] < 30 for e in entries), entries


def test_nothing_broken_is_cached_after_malformed_bodies(data: DataWorld) -> None:
    trip = next(t for t in data.truth.trips() if t.crossing == "DULATA" and t.cn_batch_no and Side.CN in t.seen_by)
    with cached_gateway(data) as http:
        with faults(data.china, malformed_rate=1.0):
            broken = gql(http, ONE, id=trip.cn_batch_no)
        assert broken["data"]["manifest"] is None or broken["data"]["manifest"]["china"] is None
        assert {e["extensions"]["code"] for e in broken["errors"]} <= {"UPSTREAM_CONTRACT", "UPSTREAM_UNAVAILABLE"}
        reset(data)
        # A load the broken query started may still be in flight (prefetches outlive a response on a
        # loaded machine) and an identical request joins it: that shares its error once, but caches
        # nothing, so the trip heals within a few tries; a cached broken answer never would.
        for _ in range(5):
            healthy = gql(http, ONE, id=trip.cn_batch_no)
            if "errors" not in healthy:
                break
            time.sleep(0.2)
        assert "errors" not in healthy, healthy
        china = healthy["data"]["manifest"]["china"]
        assert china["batchNo"] == trip.cn_batch_no
        assert [g["hs6"] for g in china["goods"]] == [item.hs6 for item in trip.items]
        assert upstream(data)  # asked again: the broken answer was not cached


async def test_concurrent_identical_queries_on_a_cold_cache_make_one_request_per_resource(data: DataWorld) -> None:
    with cached_gateway(data) as http:
        url = str(http.base_url)
        reset(data)
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits, headers=CUSTOMS_HEADERS) as client:
            payload = {"query": DASHBOARD, "variables": {"f": {**WINDOW, "crossingPoints": ["KHORGOS"]}}}
            responses = await asyncio.gather(*(client.post("/graphql", json=payload) for _ in range(100)))
        bodies = [response.json() for response in responses]
        assert all("errors" not in body for body in bodies)
        assert all(body == bodies[0] for body in bodies)
        counts = upstream(data)
        assert counts and all(count == 1 for count in counts.values()), counts


def test_two_gateways_sharing_one_redis_serve_each_others_entries(
    data: DataWorld, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with running_redis_server(tmp_path_factory.mktemp("redis-e2e")) as redis_url:
        shared = {"backend": "redis", "redis_url": redis_url, "redis_timeout_s": 2.0}
        with cached_gateway(data, **shared) as first, cached_gateway(data, **shared) as second:
            reset(data)
            cold = gql(first, DASHBOARD, f={**WINDOW, "crossingPoints": ["KHORGOS"]})
            assert "errors" not in cold, cold
            assert upstream(data)
            reset(data)
            warm = gql(second, DASHBOARD, f={**WINDOW, "crossingPoints": ["KHORGOS"]})
            assert upstream(data) == {}  # the second gateway asked Redis, not the authorities
            assert warm == cold


def test_the_memory_cache_stays_within_its_bound(data: DataWorld) -> None:
    backend = MemoryBackend(max_entries=40, max_bytes=400_000)
    metrics = GatewayMetrics()
    with cached_gateway(data, store=backend, metrics=metrics) as http:
        for crossing in ("KHORGOS", "DULATA", "ALASHANKOU"):
            body = gql(http, DASHBOARD, f={**WINDOW, "crossingPoints": [crossing]})
            assert "errors" not in body, body
            assert len(backend.store) <= 40 and backend.store.approx_bytes <= 400_000
    evictions = [
        sample.value
        for family in metrics.registry.collect()
        for sample in family.samples
        if sample.name == "customs_gateway_cache_evictions_total"
    ]
    assert sum(evictions) > 0  # the bound was reached, and held by evicting
