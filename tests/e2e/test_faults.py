"""Fault injection, for each authority: outage, hangs and latency spikes, 429, malformed bodies, flapping.

Every case shows the same five things: no unhandled exception (no masked ``Internal server
error``; every error typed and blamed on the faulted authority), the healthy side's data as the
ground truth has it, no answer built from another entity (ids checked), nothing broken left
behind (once the fault ends the full, two-sided answer is right again; a cache above the
sources would have to serve it right too), and recovery (the circuit probes and closes, /readyz
says ok again). The faults come from the simulators' admin API; the gateway is this module's own,
with short timings (:data:`tests.e2e.faults.FAULT_RESILIENCE`) so the suite stays fast, and the
cache on as configured by default (each test asks for a trip no other test asked for).
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from tests.e2e.conftest import Sim, World
from tests.e2e.faults import FAULT_DEADLINE_S, FAULT_RESILIENCE, Gateway, injected, serve_gateway, wait_recovered

from customs_sim.model import Trip

TRIP = "T20250301-KHORGOS-0001"  # seen by both sides, common manifest id (phase 2)
MANIFEST = """
query($id: ID!) { manifest(id: $id) {
  id commonManifestId
  china { batchNo } kazakhstan { piNumber }
  goods { lineNo china { hs6 } kazakhstan { hs6 } }
} }
"""
UPSTREAM_CODES = {"UPSTREAM_UNAVAILABLE", "UPSTREAM_TIMEOUT", "UPSTREAM_CONTRACT"}


@dataclass(frozen=True)
class Side:
    """The faulted authority, and how to check the other one's answer against the ground truth."""

    authority: str
    field: str
    healthy_field: str
    sim: Callable[[World], Sim]
    healthy_id: Callable[[Trip], str | None]
    healthy_key: tuple[str, Callable[[Trip], str | None]]
    healthy_hs6: Callable[[Trip], list[str]]
    faulted_key: tuple[str, Callable[[Trip], str | None]]


GACC = Side(
    authority="GACC",
    field="china",
    healthy_field="kazakhstan",
    sim=lambda w: w.china,
    healthy_id=lambda t: t.kz_pi_number,
    healthy_key=("piNumber", lambda t: t.kz_pi_number),
    healthy_hs6=lambda t: [item.kz_code[:6] for item in t.items],
    faulted_key=("batchNo", lambda t: t.cn_batch_no),
)
KGD = Side(
    authority="KGD",
    field="kazakhstan",
    healthy_field="china",
    sim=lambda w: w.kazakhstan,
    healthy_id=lambda t: t.cn_batch_no,
    healthy_key=("batchNo", lambda t: t.cn_batch_no),
    healthy_hs6=lambda t: [item.hs6 for item in t.items],
    faulted_key=("piNumber", lambda t: t.kz_pi_number),
)
SIDES = [pytest.param(GACC, id="GACC"), pytest.param(KGD, id="KGD")]


@pytest.fixture(scope="module")
def gateway(world: World) -> Iterator[Gateway]:
    with serve_gateway(world.china.server.url, world.kazakhstan.server.url) as gw:
        wait_recovered(gw.http, world.trip(TRIP).cn_batch_no or "")  # warm: KGD token, connections
        yield gw


@pytest.fixture(scope="module")
def unused_trips(world: World) -> Iterator[Trip]:
    """Two-sided trips with a common id, each handed to one test only.

    The gateway caches what it fetched (the healthy side, during a fault): a trip of its own per
    test keeps a fault's lookups from being answered by an earlier test's entries, and lets the
    test check what the fault left in the cache: after it, the same trip must come back whole and
    right (a failed lookup cached as "not found", or a broken record, would show there). Its
    faulted side, never cached, is also what reaches the upstream and probes the circuit.
    """
    # The generated volume (china_fixtures.many_trips, numbered from 100): every one complete on
    # both sides, unlike some hand-made edge cases (a trip not yet declared to China, say).
    volume = [t for t in world.trips if int(t.trip_id.rsplit("-", 1)[1]) >= 100]
    return iter([t for t in volume if t.cn_batch_no and t.kz_pi_number and t.common_id])


@pytest.fixture
def trip(unused_trips: Iterator[Trip]) -> Trip:
    return next(unused_trips)


def ask(gateway: Gateway, side: Side, trip: Trip) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    body = gateway.query(MANIFEST, id=side.healthy_id(trip))
    return body, time.perf_counter() - started


def check_degraded(body: dict[str, Any], side: Side, trip: Trip, codes: set[str]) -> None:
    """The healthy side as the truth has it, the faulted side null with typed errors blamed on it."""
    errors = body.get("errors", [])
    assert errors, body
    for error in errors:
        assert error["message"] != "Internal server error", error
        assert error["extensions"]["code"] in codes, error
        assert error["extensions"]["authority"] == side.authority, error
    assert (side.field,) in {tuple(e["path"][1:2]) for e in errors}
    manifest = body["data"]["manifest"]
    key, truth = side.healthy_key
    assert manifest[side.healthy_field][key] == truth(trip)  # the entity asked for, not another
    assert manifest[side.field] is None
    assert [g[side.healthy_field]["hs6"] for g in manifest["goods"]] == side.healthy_hs6(trip)


def check_whole(body: dict[str, Any], trip: Trip) -> None:
    """Both sides, complete and right: after a fault, nothing broken is left behind."""
    assert "errors" not in body, body
    manifest = body["data"]["manifest"]
    assert manifest["china"]["batchNo"] == trip.cn_batch_no
    assert manifest["kazakhstan"]["piNumber"] == trip.kz_pi_number
    assert manifest["commonManifestId"] == trip.common_id
    assert [g["china"]["hs6"] for g in manifest["goods"]] == [item.hs6 for item in trip.items]
    assert [g["kazakhstan"]["hs6"] for g in manifest["goods"]] == [item.kz_code[:6] for item in trip.items]


def check_recovered(gateway: Gateway, side: Side, trip: Trip) -> None:
    for any_side in (GACC, KGD):
        check_whole(gateway.query(MANIFEST, id=any_side.healthy_id(trip)), trip)
    code, ready = gateway.readyz()
    assert (code, ready["status"]) == (200, "ok"), ready
    assert ready["upstreams"][side.authority]["circuit"] == "closed"


def metric(gateway: Gateway, name: str, **labels: str) -> float:
    """The sum of a series over the label values not given."""
    total = 0.0
    for line in gateway.metrics().splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            total += float(match.group(2))
    return total


# -- outage ------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", SIDES)
def test_outage_opens_the_circuit_fails_fast_and_recovers(
    gateway: Gateway, world: World, side: Side, trip: Trip
) -> None:
    sim = side.sim(world)
    with injected(sim.admin, gateway.http, trip.kz_pi_number or "", outage=True):
        first, _ = ask(gateway, side, trip)
        check_degraded(first, side, trip, {"UPSTREAM_UNAVAILABLE"})
        calls_before = sum(sim.counters().values())
        answers = [ask(gateway, side, trip) for _ in range(3)]
        for body, _ in answers:
            check_degraded(body, side, trip, {"UPSTREAM_UNAVAILABLE"})
        fast = [seconds for body, seconds in answers if "circuit" in str(body["errors"])]
        assert fast, "the circuit never opened"
        code, ready = gateway.readyz()
        assert (code, ready["status"]) == (200, "degraded")  # one authority down is not "unready"
        upstream = ready["upstreams"][side.authority]
        assert upstream["circuit"] in ("open", "half_open") and "503" in (upstream["last_error"] or "")
        assert sum(sim.counters().values()) - calls_before < 3 * 3 * 4  # fewer calls than unguarded retries
    check_recovered(gateway, side, trip)
    assert metric(gateway, "customs_gateway_upstream_requests_total", authority=side.authority, outcome="circuit_open")


# -- hangs and latency spikes -------------------------------------------------------------------


@pytest.mark.parametrize("side", SIDES)
def test_a_hang_beyond_the_timeout_costs_one_deadline_and_the_other_side_still_answers(
    gateway: Gateway, world: World, side: Side, trip: Trip
) -> None:
    timeouts = metric(gateway, "customs_gateway_upstream_requests_total", authority=side.authority, outcome="timeout")
    with injected(side.sim(world).admin, gateway.http, trip.kz_pi_number or "", hang_rate=1.0, hang_s=3.0):
        body, seconds = ask(gateway, side, trip)
        # UPSTREAM_TIMEOUT, or UPSTREAM_UNAVAILABLE once the concurrent calls' timeouts opened the circuit.
        check_degraded(body, side, trip, {"UPSTREAM_TIMEOUT", "UPSTREAM_UNAVAILABLE"})
        assert seconds < FAULT_DEADLINE_S + 1.0, seconds  # bounded by the operation's deadline
    after = metric(gateway, "customs_gateway_upstream_requests_total", authority=side.authority, outcome="timeout")
    assert after > timeouts
    check_recovered(gateway, side, trip)


@pytest.mark.parametrize("side", SIDES)
def test_latency_spikes_slower_than_the_timeout_fail_typed_and_faster_ones_are_waited_for(
    gateway: Gateway, world: World, side: Side, trip: Trip, unused_trips: Iterator[Trip]
) -> None:
    admin = side.sim(world).admin
    timeout_ms = FAULT_RESILIENCE["total_timeout_s"] * 1000
    with injected(admin, gateway.http, trip.kz_pi_number or "", latency_ms=timeout_ms * 1.5):
        body, _ = ask(gateway, side, trip)
        check_degraded(body, side, trip, {"UPSTREAM_TIMEOUT", "UPSTREAM_UNAVAILABLE"})
    check_recovered(gateway, side, trip)
    slower = next(unused_trips)  # not cached yet: its lookups meet the latency
    with injected(admin, gateway.http, slower.kz_pi_number or "", latency_ms=timeout_ms / 4, jitter_ms=timeout_ms / 8):
        body, seconds = ask(gateway, side, slower)
        check_whole(body, slower)
        assert seconds >= timeout_ms / 4 / 1000
    check_recovered(gateway, side, slower)


# -- 429 with Retry-After ---------------------------------------------------------------------------


@pytest.mark.parametrize("side", SIDES)
def test_a_retry_after_longer_than_our_patience_is_not_retried_early_and_is_passed_on(
    gateway: Gateway, world: World, side: Side, trip: Trip
) -> None:
    retries = metric(gateway, "customs_gateway_upstream_retries_total", authority=side.authority)
    # Retry-After 1 s > max_retry_after_s 0.5 s: retrying earlier would only earn another 429.
    with injected(side.sim(world).admin, gateway.http, trip.kz_pi_number or "", rate_limit_rate=1.0, retry_after_s=1):
        body, _ = ask(gateway, side, trip)
        check_degraded(body, side, trip, {"UPSTREAM_UNAVAILABLE"})
        assert {e["extensions"].get("retryAfterSeconds") for e in body["errors"]} <= {1.0, None}
        assert any(e["extensions"].get("retryAfterSeconds") == 1.0 for e in body["errors"])
        assert metric(gateway, "customs_gateway_upstream_retries_total", authority=side.authority) == retries
    check_recovered(gateway, side, trip)


@pytest.mark.parametrize("side", SIDES)
def test_occasional_429s_with_retry_after_zero_are_retried_away(
    gateway: Gateway, world: World, side: Side, trip: Trip
) -> None:
    retries = metric(gateway, "customs_gateway_upstream_retries_total", authority=side.authority)
    admin = side.sim(world).admin
    with injected(admin, gateway.http, trip.kz_pi_number or "", rate_limit_rate=0.3, retry_after_s=0, seed=4):
        bodies = [ask(gateway, side, trip)[0] for _ in range(4)]
    assert metric(gateway, "customs_gateway_upstream_retries_total", authority=side.authority) > retries
    for body in bodies:
        if "errors" in body:  # three 429s in a row can happen: then typed, on that side only
            check_degraded(body, side, trip, {"UPSTREAM_UNAVAILABLE"})
        else:
            check_whole(body, trip)
    assert any("errors" not in body for body in bodies)
    check_recovered(gateway, side, trip)


# -- malformed bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("side", SIDES)
def test_malformed_bodies_are_contract_errors_on_that_path_only_and_leave_the_circuit_closed(
    gateway: Gateway, world: World, side: Side, trip: Trip
) -> None:
    retries = metric(gateway, "customs_gateway_upstream_retries_total", authority=side.authority)
    with injected(side.sim(world).admin, gateway.http, trip.kz_pi_number or "", malformed_rate=1.0):
        for _ in range(4):
            body, _ = ask(gateway, side, trip)
            check_degraded(body, side, trip, {"UPSTREAM_CONTRACT"})
        code, ready = gateway.readyz()
        # A garbled answer is an answer: the authority is up, the circuit stays closed.
        assert (code, ready["upstreams"][side.authority]["circuit"]) == (200, "closed")
        assert metric(gateway, "customs_gateway_upstream_retries_total", authority=side.authority) == retries
    check_recovered(gateway, side, trip)


# -- flapping ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", SIDES)
def test_a_flapping_authority_recovers_after_every_outage(
    gateway: Gateway, world: World, side: Side, unused_trips: Iterator[Trip]
) -> None:
    admin = side.sim(world).admin
    for trip in itertools.islice(unused_trips, 3):  # a cold trip per outage: once whole, it is cached
        with injected(admin, gateway.http, trip.kz_pi_number or "", outage=True):
            for _ in range(4):
                check_degraded(ask(gateway, side, trip)[0], side, trip, {"UPSTREAM_UNAVAILABLE"})
        check_recovered(gateway, side, trip)


@pytest.mark.parametrize("side", SIDES)
def test_intermittent_5xx_answers_are_right_or_typed_never_mixed_up(
    gateway: Gateway, world: World, side: Side, trip: Trip
) -> None:
    admin = side.sim(world).admin
    with injected(admin, gateway.http, trip.kz_pi_number or "", error_rate=0.5, error_status=503, seed=11):
        bodies = [ask(gateway, side, trip)[0] for _ in range(6)]
    for body in bodies:
        if "errors" in body:
            check_degraded(body, side, trip, {"UPSTREAM_UNAVAILABLE"})
        else:
            check_whole(body, trip)
    check_recovered(gateway, side, trip)


# -- a slow authority and the bulkhead ----------------------------------------------------------------


def test_a_slow_authority_holds_at_most_its_slots_and_the_other_side_is_not_held_up(
    world: World, unused_trips: Iterator[Trip]
) -> None:
    """KGD answers in 400 ms and may have 2 calls in flight, waiting at most 50 ms for a slot: the
    calls past that are shed at once (typed, KGD's paths only) and China's answers are all there."""
    trips = list(itertools.islice(unused_trips, 6))
    slots = {"limiter": {"max_concurrency": 2, "max_wait_s": 0.05}, "total_timeout_s": 2.0}
    with serve_gateway(
        world.china.server.url, world.kazakhstan.server.url, kazakhstan=slots, operation_deadline_s=5.0
    ) as gw:
        wait_recovered(gw.http, world.trip(TRIP).cn_batch_no or "")
        with (
            injected(world.kazakhstan.admin, gw.http, trips[0].cn_batch_no or "", latency_ms=400),
            ThreadPoolExecutor(len(trips)) as pool,
        ):
            started = time.perf_counter()
            bodies = list(pool.map(lambda t: gw.query(MANIFEST, id=t.cn_batch_no), trips))
            seconds = time.perf_counter() - started
        shed = 0
        for trip, body in zip(trips, bodies, strict=True):
            if "errors" in body:
                check_degraded(body, KGD, trip, {"UPSTREAM_UNAVAILABLE"})
                shed += "too many concurrent calls" in str(body["errors"])
            else:
                check_whole(body, trip)
        assert shed, "nothing was shed: the bulkhead did not bound KGD's calls"
        assert seconds < 5.0, seconds  # nobody queued behind KGD for longer than its slots allow
        assert metric(gw, "customs_gateway_upstream_requests_total", authority="KGD", outcome="overloaded") >= shed
        for trip in trips:  # what was shed left nothing behind
            check_whole(gw.query(MANIFEST, id=trip.cn_batch_no), trip)


def test_no_operation_of_the_fault_runs_ended_in_an_unexpected_error(
    gateway: Gateway, world: World, trip: Trip
) -> None:
    """Last in the module, so its check of the metrics covers every fault run above it too."""
    with injected(world.kazakhstan.admin, gateway.http, trip.kz_pi_number or "", outage=True):
        check_degraded(ask(gateway, KGD, trip)[0], KGD, trip, {"UPSTREAM_UNAVAILABLE"})
    check_recovered(gateway, KGD, trip)  # asks the trip again: its China side now from the cache
    assert 'code="INTERNAL_SERVER_ERROR"' not in gateway.metrics()
    assert metric(gateway, "customs_gateway_graphql_errors_total", code="UPSTREAM_UNAVAILABLE") > 0
    assert metric(gateway, "customs_gateway_cache_hits_total") > 0  # the runs went through the cache
