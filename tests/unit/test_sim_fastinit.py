"""customs_sim.fastinit makes the very objects the dataclasses' own __init__ makes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from customs_sim.fastinit import constructor
from customs_sim.model import EventKind, Flaw, FlawKind, Inspection, InspectionKind, InspectionResult, Side, TripEvent

AT = dt.datetime(2024, 3, 1, 8, 15, tzinfo=dt.UTC)


def test_same_object_as_the_init_including_defaults() -> None:
    new_event = constructor(TripEvent)
    made = new_event(EventKind.KZ_ARRIVED, AT, "55201011")
    assert made == TripEvent(EventKind.KZ_ARRIVED, AT, "55201011")
    assert type(made) is TripEvent and hash(made) == hash(TripEvent(EventKind.KZ_ARRIVED, AT, "55201011"))
    args = ("CI1", Side.CN, InspectionKind.H986_SCAN, AT, AT, InspectionResult.NORMAL, "6528", "ok")
    assert constructor(Inspection)(*args) == Inspection(*args)  # recognized_inspection_id defaulted
    assert constructor(Flaw)(FlawKind.MASS_MISMATCH, "x", None, Decimal("1.1")) == Flaw(
        FlawKind.MASS_MISMATCH, "x", None, Decimal("1.1")
    )


def test_the_result_is_still_frozen() -> None:
    made = constructor(TripEvent)(EventKind.KZ_ARRIVED, AT, "55201011")
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.office = "other"  # type: ignore[misc]


def test_refuses_classes_whose_init_does_more() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        value: int

        def __post_init__(self) -> None:
            if self.value < 0:
                raise ValueError("negative")

    @dataclasses.dataclass(frozen=True, slots=True)
    class Collected:
        values: list[int] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError):
        constructor(Checked)
    with pytest.raises(TypeError):
        constructor(Collected)
