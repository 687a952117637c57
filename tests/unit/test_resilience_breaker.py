"""Circuit breaker transitions on a manual clock: opening, failing fast, probing, closing.

The breaker is pure bookkeeping, so every transition is driven by hand and checked exactly; the
property test drives random interleavings and checks the two promises that matter: nobody is
let through while the circuit is open, and a half-open circuit lets through one probe at a time.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customs_gateway.domain import Authority
from customs_gateway.errors import UpstreamUnavailable
from customs_gateway.resilience import (
    BreakerConfig,
    CircuitBreaker,
    CircuitOpen,
    CircuitState,
    ManualClock,
    Permit,
)

KGD = Authority.KGD


def breaker(clock: ManualClock, **overrides: object) -> CircuitBreaker:
    settings: dict[str, object] = {"failure_threshold": 3, "failure_rate": None, "open_s": 10.0, "max_open_s": 40.0}
    settings.update(overrides)
    return CircuitBreaker(KGD, BreakerConfig.model_validate(settings), clock=clock, wall_clock=lambda: 1.7e9)


def fail(b: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        b.record_failure(b.admit(), "KGD: HTTP 503", 0.01)


def open_breaker(clock: ManualClock) -> CircuitBreaker:
    b = breaker(clock)
    fail(b, 3)
    assert b.state is CircuitState.OPEN
    return b


def test_opens_after_consecutive_failures_and_a_success_resets_the_streak() -> None:
    b = breaker(ManualClock())
    fail(b, 2)
    b.record_success(b.admit(), 0.01)
    fail(b, 2)
    assert b.state is CircuitState.CLOSED
    assert b.snapshot().consecutive_failures == 2
    fail(b)
    assert b.state is CircuitState.OPEN


def test_open_fails_fast_with_the_time_to_half_open() -> None:
    clock = ManualClock()
    b = open_breaker(clock)
    clock.advance(4)
    with pytest.raises(CircuitOpen) as caught:
        b.admit(endpoint="declarations.get")
    assert isinstance(caught.value, UpstreamUnavailable)
    assert caught.value.code == "UPSTREAM_UNAVAILABLE"
    assert caught.value.retry_after_s == pytest.approx(6.0)
    assert caught.value.endpoint == "declarations.get"
    assert b.snapshot().retry_after_s == pytest.approx(6.0)


def test_after_the_open_period_exactly_one_probe_goes_through() -> None:
    clock = ManualClock()
    b = open_breaker(clock)
    clock.advance(10)
    assert b.state is CircuitState.HALF_OPEN
    probe = b.admit()
    assert probe.probe
    with pytest.raises(CircuitOpen, match="probe in flight") as caught:
        b.admit()
    assert caught.value.retry_after_s is None


def test_a_successful_probe_closes() -> None:
    clock = ManualClock()
    b = open_breaker(clock)
    clock.advance(10)
    b.record_success(b.admit(), 0.02)
    assert b.state is CircuitState.CLOSED
    assert b.snapshot().consecutive_failures == 0
    assert not b.admit().probe


def test_a_failed_probe_reopens_for_twice_as_long_up_to_the_cap() -> None:
    clock = ManualClock()
    b = open_breaker(clock)
    periods = []
    for _ in range(4):
        clock.advance(100)
        b.record_failure(b.admit(), "KGD: still down", None)
        periods.append(b.snapshot().retry_after_s)
    assert periods == [20.0, 40.0, 40.0, 40.0]
    clock.advance(40)
    b.record_success(b.admit(), 0.01)
    fail(b, 3)
    assert b.snapshot().retry_after_s == 10.0  # a recovery resets the period


def test_a_neutral_probe_frees_the_probe_slot() -> None:
    clock = ManualClock()
    b = open_breaker(clock)
    clock.advance(10)
    b.record_neutral(b.admit())  # e.g. the probing request was cancelled
    assert b.state is CircuitState.HALF_OPEN
    assert b.admit().probe


def test_failure_rate_over_the_window_opens_once_enough_calls_were_seen() -> None:
    b = breaker(ManualClock(), failure_threshold=100, failure_rate=0.5, window=4, min_calls=4)
    for healthy in (True, False, True):
        permit = b.admit()
        if healthy:
            b.record_success(permit, 0.01)
        else:
            b.record_failure(permit, "KGD: HTTP 502", 0.01)
    assert b.state is CircuitState.CLOSED  # 1 of 3: below min_calls anyway
    fail(b)
    assert b.state is CircuitState.OPEN  # 2 of 4


def test_late_outcomes_of_older_permits_do_not_move_the_state() -> None:
    clock = ManualClock()
    b = breaker(clock)
    slow_failure, slow_success = b.admit(), b.admit()
    fail(b, 3)
    clock.advance(10)
    probe = b.admit()
    b.record_success(slow_success, 0.5)
    b.record_failure(slow_failure, "KGD: HTTP 503", 0.5)
    assert b.state is CircuitState.HALF_OPEN
    b.record_success(probe, 0.01)
    assert b.state is CircuitState.CLOSED


def test_snapshot_reports_last_error_instants_and_latency() -> None:
    b = breaker(ManualClock())
    for latency in (0.010, 0.020, 0.030, 0.040):
        b.record_success(b.admit(), latency)
    b.record_failure(b.admit(), "KGD: rate limited (HTTP 429)" + "x" * 500, 0.5)
    snap = b.snapshot()
    assert snap.state is CircuitState.CLOSED
    assert snap.last_error is not None and snap.last_error.startswith("KGD: rate limited")
    assert len(snap.last_error) == 200
    assert snap.last_success_at == snap.last_failure_at == 1.7e9
    assert snap.latency_p50_ms == 30.0
    assert snap.latency_p95_ms == 500.0


def test_transitions_are_reported() -> None:
    clock = ManualClock()
    seen: list[CircuitState] = []
    config = BreakerConfig(failure_threshold=1, failure_rate=None)
    b = CircuitBreaker(KGD, config, clock=clock, on_transition=seen.append)
    fail(b)
    clock.advance(60)
    b.record_success(b.admit(), 0.01)
    assert seen == [CircuitState.OPEN, CircuitState.HALF_OPEN, CircuitState.CLOSED]


actions = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.floats(min_value=0, max_value=15)),
        st.tuples(st.just("start"), st.none()),
        st.tuples(st.sampled_from(["success", "failure", "neutral"]), st.integers(min_value=0, max_value=5)),
    ),
    max_size=60,
)


@given(actions)
def test_never_admits_while_open_and_never_two_probes_at_once(steps: list[tuple[str, object]]) -> None:
    clock = ManualClock()
    b = breaker(clock, failure_threshold=2, open_s=5.0, max_open_s=20.0)
    outstanding: list[Permit] = []
    for action, arg in steps:
        if action == "advance":
            assert isinstance(arg, float)
            clock.advance(arg)
        elif action == "start":
            state_before = b.state
            probe_outstanding = any(p.probe for p in outstanding)
            try:
                permit = b.admit()
            except CircuitOpen:
                continue
            assert state_before is not CircuitState.OPEN
            if permit.probe:
                assert state_before is CircuitState.HALF_OPEN
                assert not probe_outstanding
            outstanding.append(permit)
        elif outstanding:
            assert isinstance(arg, int)
            permit = outstanding.pop(arg % len(outstanding))
            if action == "success":
                b.record_success(permit, 0.01)
            elif action == "failure":
                b.record_failure(permit, "KGD: down", 0.01)
            else:
                b.record_neutral(permit)
