"""Record streams map lazily: only what reaches the head of a stream is read from its page."""

from __future__ import annotations

import datetime as dt

import pytest

from customs_gateway.domain import Authority
from customs_gateway.errors import UpstreamContract
from customs_gateway.ids import Cursor
from customs_gateway.services.streams import MergedStreams, PageBudget, Stream
from customs_gateway.sources.base import LazyItems, Page

T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def test_lazy_items_map_once_on_access() -> None:
    mapped: list[int] = []

    def square(raw: int, index: int) -> int:
        mapped.append(index)
        return raw * raw

    items = LazyItems([1, 2, 3, 4], square)
    assert len(items) == 4 and mapped == []
    assert items[1] == 4 and items[-1] == 16 and items[1] == 4
    assert mapped == [1, 3]
    assert items[0:2] == [1, 4] and list(items) == [1, 4, 9, 16]
    assert mapped == [1, 3, 0, 2]


def _stream(
    authority: Authority, minutes: list[int], broken: int | None = None, after: Cursor | None = None
) -> tuple[Stream[int], list[int]]:
    """A stream over one page of items (minutes after T0); also the items mapped so far."""
    mapped: list[int] = []

    def read(raw: int, index: int) -> int:
        if raw == broken:
            raise UpstreamContract(authority, f"record {raw} broken")
        mapped.append(raw)
        return raw

    async def fetch(number: int) -> Page[int]:
        return Page(items=LazyItems(minutes if number == 0 else [], read), total=len(minutes))

    def position(item: int) -> Cursor:
        return Cursor(T0 + dt.timedelta(minutes=item), authority, str(item))

    return Stream(authority, fetch, len(minutes) + 1, position, after), mapped


async def test_merge_maps_only_what_it_takes() -> None:
    cn, cn_mapped = _stream(Authority.GACC, [1, 3, 5, 7, 9])
    kz, kz_mapped = _stream(Authority.KGD, [2, 4, 6, 8])
    merged = MergedStreams([cn, kz], PageBudget())
    taken = [(await merged.next()) for _ in range(3)]
    assert [t[1] for t in taken if t] == [1, 2, 3]
    # 4 was read to compare it with 3; nothing past the items compared is read.
    assert cn_mapped == [1, 3] and kz_mapped == [2, 4]


async def test_a_broken_record_ends_its_stream_after_the_good_ones() -> None:
    cn, _ = _stream(Authority.GACC, [1, 3, 5], broken=3)
    kz, _ = _stream(Authority.KGD, [2, 4])
    merged = MergedStreams([cn, kz], PageBudget())
    items = []
    while (taken := await merged.next()) is not None:
        items.append(taken[1])
    assert items == [1, 2, 4]
    assert [type(e) for e in merged.errors] == [UpstreamContract]


async def test_items_at_or_before_the_cursor_are_skipped() -> None:
    after = Cursor(T0 + dt.timedelta(minutes=3), Authority.GACC, "3")
    cn, cn_mapped = _stream(Authority.GACC, [1, 3, 5, 7], after=after)
    assert await cn.head(PageBudget()) == 5
    assert cn.pop() == 5
    assert cn_mapped == [1, 3, 5]


@pytest.mark.parametrize("broken", [1, 2])
async def test_lazy_items_raise_on_the_broken_record_only(broken: int) -> None:
    def read(raw: int, index: int) -> int:
        if raw == broken:
            raise UpstreamContract(Authority.KGD, "broken")
        return raw

    items = LazyItems([1, 2], read)
    good = 3 - broken
    assert items[good - 1] == good
    with pytest.raises(UpstreamContract):
        items[broken - 1]
