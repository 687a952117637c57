"""Linking a report's loose ends across days: each record once, within the window, and the loose
part kept out of what trade flow decodes."""

from __future__ import annotations

import datetime as dt

import pytest

from customs_gateway.domain import Country, Direction, PlateId
from customs_gateway.linking import LinkWindow
from customs_gateway.plates import parse_plate
from customs_gateway.reports.partials import ChunkPartial, LooseEnd, LooseEnds
from customs_gateway.reports.scan import door_to_door, link_loose_ends
from customs_gateway.reports.valuation_fold import ValuationFold

T0 = dt.datetime(2025, 3, 1, 22, 0, tzinfo=dt.UTC)
WINDOW = LinkWindow()


def end(
    key: str,
    at: dt.datetime,
    *,
    common_id: str | None = None,
    plate: str = "新F12345",
    final_in: dt.timedelta | None = dt.timedelta(hours=3),
    usd: int | None = 100_00,
) -> LooseEnd:
    return LooseEnd(
        common_id,
        parse_plate(plate),
        at,
        None if final_in is None else at + final_in,
        key,
        "C1",
        "Carrier",
        usd,
        {"847130": usd or 0},
    )


def test_a_record_is_never_in_two_pairs() -> None:
    importing = [end("PI1", T0 + dt.timedelta(hours=4), common_id="M1")]
    exporting = [end("B1", T0, common_id="M1"), end("B2", T0 + dt.timedelta(hours=1), common_id="M1")]
    pairs = link_loose_ends(LooseEnds(exporting, importing), WINDOW)
    assert [(a.key, b.key) for a, b in pairs] == [("B1", "PI1")]
    by_plate = LooseEnds(
        [end("B1", T0), end("B2", T0 + dt.timedelta(hours=1))], [end("PI1", T0 + dt.timedelta(hours=5))]
    )
    assert len(link_loose_ends(by_plate, WINDOW)) == 1


def test_exporting_records_take_the_nearest_partner_in_order_of_declaration() -> None:
    # A truck's trip before midnight and its next one: whatever order the chunks came in.
    exporting = [end("B2", T0 + dt.timedelta(hours=23)), end("B1", T0 + dt.timedelta(hours=1))]
    importing = [end("PI2", T0 + dt.timedelta(hours=27)), end("PI1", T0 + dt.timedelta(hours=4))]
    pairs = link_loose_ends(LooseEnds(exporting, importing), WINDOW)
    assert sorted((a.key, b.key) for a, b in pairs) == [("B1", "PI1"), ("B2", "PI2")]


@pytest.mark.parametrize(
    ("offset", "linked"),
    [
        (WINDOW.after, True),
        (WINDOW.after + dt.timedelta(seconds=1), False),
        (-WINDOW.before, True),
        (-WINDOW.before - dt.timedelta(seconds=1), False),
    ],
)
def test_vehicle_and_time_link_only_within_the_window(offset: dt.timedelta, linked: bool) -> None:
    loose = LooseEnds([end("B1", T0)], [end("PI1", T0 + offset, plate="XINF12345")])
    assert len(link_loose_ends(loose, WINDOW)) == (1 if linked else 0)


def test_other_vehicles_and_ids_do_not_link() -> None:
    loose = LooseEnds(
        [end("B1", T0), end("B2", T0, common_id="M2", plate="新A00001")],
        [end("PI1", T0, plate="新F54321"), end("PI2", T0, common_id="M3", plate="新A00001")],
    )
    assert link_loose_ends(loose, WINDOW) == []


def test_door_to_door_and_valuation_of_pairs_across_days() -> None:
    exporting = end("B1", T0, common_id="M1", usd=100_00)
    importing = end("PI1", T0 + dt.timedelta(hours=5), common_id="M1", final_in=dt.timedelta(hours=2), usd=90_00)
    pairs = link_loose_ends(LooseEnds([exporting], [importing]), WINDOW)
    assert door_to_door(pairs) == {7 * 60: 1}
    fold = ValuationFold()
    fold.fold_loose(exporting, importing, Direction.CN_TO_KZ, "KHORGOS", T0.date())
    fold.fold_loose(end("B2", T0), end("PI2", T0, usd=None), Direction.CN_TO_KZ, "KHORGOS", T0.date())
    partial = fold.partial()
    assert (partial.total.trips, str(partial.total.gap_usd), partial.unpriced) == (1, "-10.00", 1)
    assert [(gap.china_batch_no, gap.kazakhstan_pi_number, gap.day) for gap in partial.largest] == [
        ("B1", "PI1", T0.date())
    ]


def test_loose_ends_are_their_own_part_and_round_trip() -> None:
    partial = ChunkPartial()
    partial.loose = LooseEnds([end("B1", T0, common_id="M1")], [end("PI1", T0, final_in=None, plate="XINF12345")])
    parts = partial.parts()
    assert ChunkPartial.from_parts(parts).loose == partial.loose
    # A plate that its canonical text does not give back is kept whole.
    odd = PlateId("XINF12345", "新F·12345", "XINF12345", Country.CN, None, False, True)
    assert parse_plate(odd.canonical) != odd
    partial.loose.exporting.append(end("B2", T0)._replace(plate=odd))
    assert ChunkPartial.from_parts(partial.parts()).loose.exporting[-1].plate == odd
    # Trade flow's parts leave the loose ends undecoded: a broken loose part does not matter to it.
    flow_only = {part: data for part, data in parts.items() if part != "loose"}
    assert ChunkPartial.from_parts(flow_only).loose == LooseEnds()
    with pytest.raises(ValueError):
        ChunkPartial.from_parts({**parts, "loose": b"not json"})
