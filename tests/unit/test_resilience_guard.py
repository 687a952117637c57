"""The guard composing deadline, breaker, bulkhead, timeout and retries, on a real event loop.

Retries run under ``stamina.set_testing`` (no backoff sleeps) except where the point is the
sleep itself (``Retry-After``), which then takes tens of milliseconds of real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import stamina

from customs_gateway.domain import Authority
from customs_gateway.errors import UpstreamContract, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from customs_gateway.resilience import (
    BreakerConfig,
    CircuitOpen,
    CircuitState,
    DeadlineExceeded,
    LimiterConfig,
    ManualClock,
    Outcome,
    ResilienceConfig,
    RetryConfig,
    TooManyConcurrentCalls,
    UpstreamGuard,
    UpstreamPolicy,
    operation_deadline,
)

GACC = Authority.GACC


class NotFoundCode(Exception):
    """Stands in for a source's internal "not found" signal."""


@dataclass
class Recorder:
    attempts: list[tuple[str, Outcome, int]] = field(default_factory=list)
    states: list[CircuitState] = field(default_factory=list)

    def upstream_attempt(
        self, authority: Authority, endpoint: str, outcome: Outcome, duration_s: float, attempt: int
    ) -> None:
        assert authority is GACC and duration_s >= 0
        self.attempts.append((endpoint, outcome, attempt))

    def circuit_state(self, authority: Authority, state: CircuitState) -> None:
        self.states.append(state)

    @property
    def outcomes(self) -> list[Outcome]:
        return [outcome for _, outcome, _ in self.attempts]


@dataclass
class Upstream:
    """A scripted attempt_fn: raises the queued errors in turn, then answers."""

    errors: list[BaseException] = field(default_factory=list)
    delay: float = 0.0
    calls: int = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.errors:
            raise self.errors.pop(0)
        return "answer"


def make_guard(
    recorder: Recorder | None = None,
    *,
    clock: ManualClock | None = None,
    total_timeout_s: float = 5.0,
    attempts: int = 3,
    threshold: int = 3,
    limit: int = 4,
    max_wait_s: float = 1.0,
) -> UpstreamGuard:
    policy = UpstreamPolicy(
        retry=RetryConfig(attempts=attempts, wait_initial_s=0.001, wait_max_s=0.005, wait_jitter_s=0.001),
        breaker=BreakerConfig(failure_threshold=threshold, failure_rate=None, open_s=30.0, max_open_s=60.0),
        limiter=LimiterConfig(max_concurrency=limit, max_wait_s=max_wait_s),
    )
    return UpstreamGuard(
        GACC,
        policy,
        total_timeout_s=total_timeout_s,
        default_deadline_s=10.0,
        answers=(NotFoundCode,),
        observer=recorder,
        clock=clock or ManualClock(),
    )


@pytest.fixture(autouse=True)
def no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=10, cap=True):
        yield


def unavailable(retry_after_s: float | None = None) -> UpstreamUnavailable:
    return UpstreamUnavailable(GACC, "HTTP 503", endpoint="GET /x", retry_after_s=retry_after_s)


async def test_an_answer_passes_through_and_is_recorded() -> None:
    recorder = Recorder()
    assert await make_guard(recorder).call("manifest.get", True, Upstream()) == "answer"
    assert recorder.attempts == [("manifest.get", Outcome.OK, 1)]


async def test_an_idempotent_call_is_retried_on_unavailable_and_timeout() -> None:
    recorder = Recorder()
    upstream = Upstream([unavailable(), UpstreamTimeout(GACC, "read timeout")])
    assert await make_guard(recorder).call("manifest.get", True, upstream) == "answer"
    assert upstream.calls == 3
    assert recorder.attempts == [
        ("manifest.get", Outcome.UNAVAILABLE, 1),
        ("manifest.get", Outcome.TIMEOUT, 2),
        ("manifest.get", Outcome.OK, 3),
    ]


async def test_attempts_are_bounded_and_the_last_error_propagates() -> None:
    last = unavailable()
    upstream = Upstream([unavailable(), unavailable(), last])
    with pytest.raises(UpstreamUnavailable) as caught:
        await make_guard(threshold=10).call("manifest.get", True, upstream)
    assert caught.value is last
    assert upstream.calls == 3


async def test_a_non_idempotent_call_is_tried_once_even_when_stamina_would_allow_more() -> None:
    upstream = Upstream([unavailable()])
    with stamina.set_testing(True, attempts=5), pytest.raises(UpstreamUnavailable):
        await make_guard().call("declaration.submit", False, upstream)
    assert upstream.calls == 1


@pytest.mark.parametrize("error", [UpstreamRejected(GACC, "E4003"), UpstreamContract(GACC, "not JSON")], ids=type)
async def test_rejections_and_contract_breaches_are_not_retried(error: Exception) -> None:
    upstream = Upstream([error])
    guard = make_guard()
    with pytest.raises(type(error)):
        await guard.call("manifest.get", True, upstream)
    assert upstream.calls == 1
    assert guard.breaker.snapshot().consecutive_failures == 0


async def test_a_not_found_answer_is_passed_through_once_and_counts_as_health() -> None:
    recorder = Recorder()
    guard = make_guard(recorder)
    upstream = Upstream([unavailable(), NotFoundCode("E2003")])
    with pytest.raises(NotFoundCode):
        await guard.call("manifest.get", True, upstream)
    assert recorder.outcomes == [Outcome.UNAVAILABLE, Outcome.NOT_FOUND]
    assert guard.breaker.snapshot().consecutive_failures == 0


async def test_retry_after_is_honoured() -> None:
    upstream = Upstream([unavailable(retry_after_s=0.06)])
    loop = asyncio.get_running_loop()
    with stamina.set_testing(False):  # a real backoff: the point is how long it is
        started = loop.time()
        assert await make_guard().call("manifest.get", True, upstream) == "answer"
        elapsed = loop.time() - started
    assert upstream.calls == 2
    assert 0.06 <= elapsed < 1.0


async def test_a_retry_after_beyond_the_deadline_gives_up_at_once() -> None:
    error = unavailable(retry_after_s=3.0)
    upstream = Upstream([error])
    loop = asyncio.get_running_loop()
    with stamina.set_testing(False), operation_deadline(2.0):
        started = loop.time()
        with pytest.raises(UpstreamUnavailable) as caught:
            await make_guard().call("manifest.get", True, upstream)
    assert caught.value is error and caught.value.retry_after_s == 3.0
    assert upstream.calls == 1
    assert loop.time() - started < 0.5


async def test_past_the_deadline_nothing_is_called() -> None:
    clock = ManualClock()
    recorder = Recorder()
    upstream = Upstream()
    with operation_deadline(1.0, clock=clock):
        clock.advance(1.5)
        with pytest.raises(DeadlineExceeded) as caught:
            await make_guard(recorder, clock=clock).call("manifest.get", True, upstream)
    assert caught.value.code == "UPSTREAM_TIMEOUT"
    assert upstream.calls == 0
    assert recorder.outcomes == [Outcome.DEADLINE_EXCEEDED]


async def test_the_upstreams_own_timeout_bounds_an_attempt_and_counts_as_failure() -> None:
    guard = make_guard(total_timeout_s=0.02, attempts=1)
    with pytest.raises(UpstreamTimeout, match="no answer within"):
        await guard.call("manifest.get", True, Upstream(delay=5.0))
    assert guard.breaker.snapshot().consecutive_failures == 1


async def test_the_time_left_bounds_an_attempt_and_a_clipped_timeout_is_not_the_upstreams_fault() -> None:
    guard = make_guard(total_timeout_s=5.0)
    loop = asyncio.get_running_loop()
    upstream = Upstream(delay=5.0)
    with operation_deadline(0.03):
        started = loop.time()
        with pytest.raises(UpstreamTimeout):
            await guard.call("manifest.get", True, upstream)
    assert loop.time() - started < 0.5
    assert upstream.calls == 1  # no time left for a retry
    assert guard.breaker.snapshot().consecutive_failures == 0


async def test_an_open_circuit_fails_fast_without_calling() -> None:
    recorder = Recorder()
    guard = make_guard(recorder, threshold=2, attempts=1)
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            await guard.call("manifest.get", True, Upstream([unavailable()]))
    upstream = Upstream()
    with pytest.raises(CircuitOpen) as caught:
        await guard.call("manifest.get", True, upstream)
    assert upstream.calls == 0
    assert caught.value.retry_after_s == pytest.approx(30.0)
    assert recorder.outcomes[-1] is Outcome.CIRCUIT_OPEN
    assert recorder.states == [CircuitState.OPEN]


async def test_a_circuit_opening_mid_retry_stops_the_retries_with_the_real_error() -> None:
    guard = make_guard(threshold=2, attempts=5)
    errors = [unavailable() for _ in range(5)]
    upstream = Upstream(list(errors))
    with pytest.raises(UpstreamUnavailable) as caught:
        await guard.call("manifest.get", True, upstream)
    assert caught.value is errors[1]
    assert upstream.calls == 2


async def test_half_open_lets_one_probe_through_and_its_success_closes() -> None:
    clock = ManualClock()
    recorder = Recorder()
    guard = make_guard(recorder, clock=clock, threshold=1, attempts=1)
    with pytest.raises(UpstreamUnavailable):
        await guard.call("manifest.get", True, Upstream([unavailable()]))
    clock.advance(30)
    gate = asyncio.Event()

    async def slow_probe() -> str:
        await gate.wait()
        return "recovered"

    probe = asyncio.create_task(guard.call("manifest.get", True, slow_probe))
    await asyncio.sleep(0.01)
    bystander = Upstream()
    with pytest.raises(CircuitOpen, match="probe in flight"):
        await guard.call("manifest.get", True, bystander)
    assert bystander.calls == 0
    gate.set()
    assert await probe == "recovered"
    assert guard.status().breaker.state is CircuitState.CLOSED
    assert recorder.states == [CircuitState.OPEN, CircuitState.HALF_OPEN, CircuitState.CLOSED]


async def test_a_cancelled_probe_hands_probing_to_the_next_caller() -> None:
    clock = ManualClock()
    guard = make_guard(clock=clock, threshold=1, attempts=1)
    with pytest.raises(UpstreamUnavailable):
        await guard.call("manifest.get", True, Upstream([unavailable()]))
    clock.advance(30)
    probe = asyncio.create_task(guard.call("manifest.get", True, Upstream(delay=10.0)))
    await asyncio.sleep(0.01)
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert await guard.call("manifest.get", True, Upstream()) == "answer"
    assert guard.status().breaker.state is CircuitState.CLOSED


async def test_a_full_bulkhead_sheds_without_retrying_and_without_blaming_the_upstream() -> None:
    recorder = Recorder()
    guard = make_guard(recorder, limit=1, max_wait_s=0.02)
    gate = asyncio.Event()

    async def hold() -> str:
        await gate.wait()
        return "slow"

    holder = asyncio.create_task(guard.call("manifest.get", True, hold))
    await asyncio.sleep(0.01)
    assert guard.status().in_flight == 1
    shed = Upstream()
    with pytest.raises(TooManyConcurrentCalls):
        await guard.call("manifest.get", True, shed)
    assert shed.calls == 0
    gate.set()
    assert await holder == "slow"
    assert recorder.outcomes == [Outcome.OVERLOADED, Outcome.OK]
    assert guard.breaker.snapshot().consecutive_failures == 0


async def test_an_unexpected_exception_propagates_untouched_and_is_neutral() -> None:
    recorder = Recorder()
    guard = make_guard(recorder, threshold=1)
    with pytest.raises(KeyError):
        await guard.call("manifest.get", True, Upstream([KeyError("payload")]))
    assert recorder.outcomes == [Outcome.ERROR]
    assert guard.status().breaker.state is CircuitState.CLOSED


async def test_from_config_takes_the_authoritys_policy_and_the_default_deadline() -> None:
    config = ResilienceConfig(
        operation_deadline_s=0.05,
        per_upstream={GACC: UpstreamPolicy(limiter=LimiterConfig(max_concurrency=2, max_wait_s=0.1))},
    )
    guard = UpstreamGuard.from_config(GACC, config, total_timeout_s=5.0)
    assert guard.status().concurrency_limit == 2
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(UpstreamTimeout):  # no operation deadline set: the default one applies
        await guard.call("manifest.get", True, Upstream(delay=5.0))
    assert loop.time() - started < 0.5
    assert UpstreamGuard.from_config(Authority.KGD, config, total_timeout_s=5.0).status().concurrency_limit == 16



def test_resilience_config_reads_like_the_settings_file_and_refuses_inconsistencies() -> None:
    config = ResilienceConfig.model_validate(
        {"operation_deadline_s": 8, "per_upstream": {"KGD": {"retry": {"attempts": 2}}}}
    )
    assert config.policy_for(Authority.KGD).retry.attempts == 2
    assert config.policy_for(GACC) == UpstreamPolicy()
    with pytest.raises(ValueError, match="min_calls"):
        BreakerConfig(window=5, min_calls=6)
    with pytest.raises(ValueError, match="max_open_s"):
        BreakerConfig(open_s=30, max_open_s=10)
    with pytest.raises(ValueError):
        ResilienceConfig.model_validate({"default": {"retry": {"attemps": 3}}})  # typo: refused, not ignored
