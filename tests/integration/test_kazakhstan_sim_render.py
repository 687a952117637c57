"""Properties of the Kazakhstan simulator's pure renderer: any text survives, any instant round-trips."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st
from kazakhstan_fixtures import fake_rate, hand_made_trips, kgd_schema, parse, text

from customs_sim.kazakhstan.documents import single_document
from customs_sim.kazakhstan.render import format_local, render_trip
from customs_sim.model import Company, Side

# Text XML 1.0 can carry at all: no C0 controls but tab/newline, no surrogates, no U+FFFE/U+FFFF.
xml_text = st.text(
    st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\ufffe\uffff\r",
        min_codepoint=0x20,
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() == s and s != "")

BASE = hand_made_trips()[1]  # an import with controls, one of them a recognized Chinese scan


@settings(max_examples=60, deadline=None)
@given(name=xml_text, description=xml_text, note=xml_text, plate=xml_text)
def test_any_text_round_trips_through_a_valid_document(
    name: str, description: str, note: str, plate: str
) -> None:
    trip = dataclasses.replace(
        BASE,
        consignee=Company("123456789012", Side.KZ, name, "LATIN"),
        items=(dataclasses.replace(BASE.items[0], description_ru=description),),
        inspections=tuple(dataclasses.replace(i, note=note) for i in BASE.inspections),
        kz_truck_plate_written=plate,
    )
    records = render_trip(trip, fake_rate)
    assert records is not None
    pi = single_document(records.pi.doc)
    kgd_schema().validate(pi.decode())
    root = parse(pi)
    assert text(root, "Consignee/Name") == name
    assert text(root, "Goods/GoodsItem/Description") == description
    assert text(root, "Transport/VehicleRegNumber") == plate
    assert records.pi.plate_key == plate.upper().replace(" ", "")
    for control in records.controls:
        document = single_document(control.doc)
        kgd_schema().validate(document.decode())
        assert text(parse(document), "InspectorNote") == note


SWITCH = dt.datetime(2024, 2, 29, 18, tzinfo=dt.UTC)


@given(
    st.datetimes(
        min_value=dt.datetime(2023, 1, 1), max_value=dt.datetime(2026, 1, 1), timezones=st.just(dt.UTC)
    )
)
def test_local_times_round_trip_with_the_offset_of_their_instant(at: dt.datetime) -> None:
    rendered = format_local(at)
    assert len(rendered) == 25
    assert rendered.endswith("+06:00" if at < SWITCH else "+05:00")
    assert dt.datetime.fromisoformat(rendered) == at.replace(microsecond=0)


def test_the_switch_instant_itself_is_plus_five() -> None:
    assert format_local(SWITCH) == "2024-02-29T23:00:00+05:00"  # i.e. 2024-03-01T00:00:00+06:00
    assert format_local(SWITCH - dt.timedelta(seconds=1)) == "2024-02-29T23:59:59+06:00"
