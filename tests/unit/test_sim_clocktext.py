"""The simulators' table-driven local times (customs_sim.clocktext) agree with datetime's own."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from customs_sim.china.render import cn_time
from customs_sim.kazakhstan.render import format_local
from customs_sim.reference import KZ_OFFSET_SWITCH, kz_tz

# Whole-second UTC instants over the years a dataset can span, the Kazakh clock change included.
instants = st.datetimes(
    min_value=dt.datetime(2019, 12, 30), max_value=dt.datetime(2031, 1, 2), timezones=st.just(dt.UTC)
).map(lambda at: at.replace(microsecond=0))


@given(instants)
def test_kazakh_local_time_is_the_posts_offset_at_that_instant(at: dt.datetime) -> None:
    local = at.astimezone(kz_tz(at))
    expected = local.replace(tzinfo=None).isoformat() + ("+05:00" if at >= KZ_OFFSET_SWITCH else "+06:00")
    assert format_local(at) == expected


@given(instants)
def test_chinese_time_is_beijing_time_without_offset(at: dt.datetime) -> None:
    local = at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert cn_time(at) == local.strftime("%Y%m%d%H%M%S")


@given(instants, st.integers(min_value=1, max_value=999_999))
def test_fractions_of_a_second_are_cut_as_before(at: dt.datetime, microsecond: int) -> None:
    fine = at.replace(microsecond=microsecond)
    assert format_local(fine) == format_local(at)
    assert cn_time(fine) == cn_time(at)


def test_the_switch_instant_itself_is_already_utc_plus_5() -> None:
    assert format_local(KZ_OFFSET_SWITCH) == "2024-02-29T23:00:00+05:00"
    assert format_local(KZ_OFFSET_SWITCH - dt.timedelta(seconds=1)) == "2024-02-29T23:59:59+06:00"
