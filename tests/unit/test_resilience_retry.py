"""Which failures are retried and after how long (the pure hook), and the per-operation deadline."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customs_gateway.domain import Authority
from customs_gateway.errors import (
    InvalidInput,
    UpstreamContract,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from customs_gateway.resilience import (
    CircuitOpen,
    Deadline,
    DeadlineExceeded,
    ManualClock,
    RetryConfig,
    TooManyConcurrentCalls,
    backoff_for,
    current_deadline,
    operation_deadline,
    worst_case_backoff,
)

KGD = Authority.KGD
CONFIG = RetryConfig(
    attempts=4, wait_initial_s=0.1, wait_max_s=1.0, wait_jitter_s=0.1, max_retry_after_s=5.0, min_attempt_s=0.05
)


def decide(error: Exception, *, idempotent: bool = True, attempt: int = 1, remaining_s: float = 10.0) -> bool | float:
    return backoff_for(error, idempotent=idempotent, attempt=attempt, remaining_s=remaining_s, config=CONFIG)


RETRYABLE: list[Exception] = [UpstreamUnavailable(KGD, "HTTP 503"), UpstreamTimeout(KGD, "read timeout")]
NEVER: list[Exception] = [
    UpstreamRejected(KGD, "HTTP 401"),
    UpstreamContract(KGD, "not XML"),
    CircuitOpen(KGD, "circuit open", retry_after_s=0.1),
    TooManyConcurrentCalls(KGD, "too many concurrent calls"),
    DeadlineExceeded(KGD),
    InvalidInput("bad id"),
    KeyError("payload"),
]


@pytest.mark.parametrize("error", RETRYABLE, ids=type)
def test_unavailable_and_timeout_are_retried_with_exponential_backoff(error: Exception) -> None:
    assert decide(error) is True


@pytest.mark.parametrize("error", RETRYABLE + NEVER, ids=type)
def test_nothing_is_retried_for_a_non_idempotent_call(error: Exception) -> None:
    assert decide(error, idempotent=False) is False


@pytest.mark.parametrize("error", NEVER, ids=type)
def test_rejections_contract_breaches_and_our_own_refusals_are_never_retried(error: Exception) -> None:
    assert decide(error) is False


def test_no_retry_when_the_worst_backoff_would_not_leave_a_useful_attempt() -> None:
    error = UpstreamUnavailable(KGD, "HTTP 502")
    assert worst_case_backoff(CONFIG, 3) == pytest.approx(0.5)  # 0.1 * 2**2 + 0.1 jitter
    assert decide(error, attempt=3, remaining_s=0.55) is True
    assert decide(error, attempt=3, remaining_s=0.54) is False


def test_worst_case_backoff_grows_then_stays_at_the_cap() -> None:
    waits = [worst_case_backoff(CONFIG, n) for n in range(1, 8)]
    assert waits == sorted(waits)
    assert waits[-1] == CONFIG.wait_max_s
    assert worst_case_backoff(CONFIG, 5000) == CONFIG.wait_max_s  # no OverflowError


def test_retry_after_is_the_backoff_when_it_fits_the_deadline() -> None:
    assert decide(UpstreamUnavailable(KGD, "HTTP 429", retry_after_s=2.0), remaining_s=3.0) == 2.0
    assert decide(UpstreamUnavailable(KGD, "HTTP 429", retry_after_s=-1.0)) == 0.0


def test_a_retry_after_past_the_deadline_or_our_patience_gives_up_at_once() -> None:
    assert decide(UpstreamUnavailable(KGD, "HTTP 429", retry_after_s=2.0), remaining_s=2.01) is False
    assert decide(UpstreamUnavailable(KGD, "HTTP 429", retry_after_s=6.0), remaining_s=60.0) is False


@given(
    retry_after=st.none() | st.floats(min_value=0, max_value=100),
    attempt=st.integers(min_value=1, max_value=20),
    remaining=st.floats(min_value=0, max_value=100),
)
def test_a_retry_always_leaves_a_useful_attempt_before_the_deadline(
    retry_after: float | None, attempt: int, remaining: float
) -> None:
    decision = decide(
        UpstreamUnavailable(KGD, "HTTP 503", retry_after_s=retry_after), attempt=attempt, remaining_s=remaining
    )
    if decision is True:
        assert worst_case_backoff(CONFIG, attempt) + CONFIG.min_attempt_s <= remaining
    elif decision is not False:
        assert decision + CONFIG.min_attempt_s <= remaining
        assert decision == retry_after


def test_operation_deadline_is_visible_inside_and_gone_after() -> None:
    clock = ManualClock()
    assert current_deadline() is None
    with operation_deadline(5.0, clock=clock) as deadline:
        assert current_deadline() is deadline
        clock.advance(2)
        assert deadline.remaining() == pytest.approx(3.0)
        clock.advance(4)
        assert deadline.expired()
        assert deadline.remaining() == 0.0
    assert current_deadline() is None


def test_a_nested_deadline_can_shorten_but_never_extend() -> None:
    clock = ManualClock()
    with operation_deadline(5.0, clock=clock) as outer:
        with operation_deadline(60.0, clock=clock) as longer:
            assert longer is outer
        with operation_deadline(1.0, clock=clock) as shorter:
            assert shorter.remaining() == pytest.approx(1.0)
        assert current_deadline() is outer


async def test_the_deadline_follows_the_operation_into_its_tasks() -> None:
    with operation_deadline(5.0) as deadline:
        assert await asyncio.create_task(_deadline_in_task()) is deadline
    assert await asyncio.create_task(_deadline_in_task()) is None


def test_a_negative_budget_is_refused() -> None:
    with pytest.raises(ValueError), operation_deadline(-1.0):
        pass


def test_deadline_after_counts_from_now() -> None:
    clock = ManualClock(start=50.0)
    assert Deadline.after(2.5, clock).expires_at == 52.5


async def _deadline_in_task() -> Deadline | None:
    return current_deadline()
