"""Time windows of the list queries: defaults, rounding of the default end, refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customs_gateway.errors import InvalidInput
from customs_gateway.services.paging import DEFAULT_END_GRAIN_S, DEFAULT_WINDOW, resolve_window

UTC = dt.UTC
instants = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1), timezones=st.just(UTC))


@given(instants)
def test_default_end_is_now_rounded_up_to_the_grain(now: dt.datetime) -> None:
    start, end = resolve_window(None, None, lambda: now)
    assert now <= end < now + dt.timedelta(seconds=DEFAULT_END_GRAIN_S)
    assert end.timestamp() % DEFAULT_END_GRAIN_S == 0
    assert end - start == DEFAULT_WINDOW


def test_requests_within_one_grain_ask_the_same_window() -> None:
    base = dt.datetime(2025, 3, 2, 10, 0, 0, tzinfo=UTC)
    windows = {resolve_window(None, None, lambda s=s: base + dt.timedelta(seconds=s)) for s in (0.5, 7, 14.9)}
    assert windows == {(base + dt.timedelta(seconds=15) - DEFAULT_WINDOW, base + dt.timedelta(seconds=15))}


def test_explicit_bounds_are_kept_as_given_in_utc() -> None:
    start = dt.datetime(2025, 3, 2, 10, 0, 7, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    end = start + dt.timedelta(hours=3, seconds=1)
    assert resolve_window(start, end, lambda: end) == (start.astimezone(UTC), end.astimezone(UTC))
    assert resolve_window(start, None, lambda: end) == (start.astimezone(UTC), (start + DEFAULT_WINDOW).astimezone(UTC))


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (dt.datetime(2025, 3, 2), None, "needs a UTC offset"),
        (dt.datetime(2025, 3, 2, tzinfo=UTC), dt.datetime(2025, 3, 1, tzinfo=UTC), "before"),
        (dt.datetime(2025, 1, 1, tzinfo=UTC), dt.datetime(2025, 3, 1, tzinfo=UTC), "at most 31 days"),
    ],
)
def test_bad_windows_are_refused(start: dt.datetime, end: dt.datetime | None, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        resolve_window(start, end, lambda: dt.datetime(2025, 3, 2, tzinfo=UTC))
