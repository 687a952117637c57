"""recognition.py: a recorded recognition counts only under the rules of the crossing's phase."""

from __future__ import annotations

import datetime as dt

import pytest

from customs_gateway.domain import Authority, Inspection, InspectionKind, InspectionOutcome
from customs_gateway.recognition import (
    RecognitionPolicy,
    RecognitionRule,
    recognized_ids,
    repeated_inspection_avoided,
)

T0 = dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
POLICY = RecognitionPolicy(
    [RecognitionRule(2, Authority.KGD, frozenset({InspectionKind.XRAY_SCAN}), dt.timedelta(hours=24))]
)


def inspection(
    authority: Authority,
    id_: str,
    kind: InspectionKind,
    start: dt.datetime,
    recognized: str | None = None,
) -> Inspection:
    return Inspection(
        authority, id_, "R", kind, kind.value, InspectionOutcome.NO_FINDINGS, None, start,
        start + dt.timedelta(minutes=10), "office", None, recognized,
    )  # fmt: skip


SCAN = inspection(Authority.GACC, "CI1", InspectionKind.XRAY_SCAN, T0)


@pytest.mark.parametrize(
    ("phase", "kind", "after", "counted"),
    [
        (2, InspectionKind.XRAY_SCAN, dt.timedelta(hours=2), True),
        (1, InspectionKind.XRAY_SCAN, dt.timedelta(hours=2), False),  # the crossing is not in phase 2
        (2, InspectionKind.MANUAL_INSPECTION, dt.timedelta(hours=2), False),  # kind not agreed
        (2, InspectionKind.XRAY_SCAN, dt.timedelta(hours=25), False),  # too late
        (2, InspectionKind.XRAY_SCAN, -dt.timedelta(hours=1), False),  # before the inspection ended
    ],
)
def test_a_recognition_counts_only_under_the_rules(
    phase: int, kind: InspectionKind, after: dt.timedelta, counted: bool
) -> None:
    own = inspection(Authority.GACC, "CI1", kind, T0)
    recognition = inspection(Authority.KGD, "K1", InspectionKind.XRAY_SCAN, T0 + after, recognized="CI1")
    assert (recognized_ids([own], [recognition], phase, POLICY) == {"CI1"}) is counted
    assert repeated_inspection_avoided([own], [recognition], phase, POLICY) is counted


def test_only_the_configured_recognizer_and_the_named_inspection_count() -> None:
    kz_scan = inspection(Authority.KGD, "K1", InspectionKind.XRAY_SCAN, T0)
    cn_recognizes = inspection(Authority.GACC, "CI9", InspectionKind.XRAY_SCAN, T0 + dt.timedelta(hours=1), "K1")
    assert recognized_ids([kz_scan], [cn_recognizes], 2, POLICY) == set()  # GACC has no rule here
    other = inspection(Authority.KGD, "K2", InspectionKind.XRAY_SCAN, T0 + dt.timedelta(hours=1), "CI-other")
    assert recognized_ids([SCAN], [other], 2, POLICY) == set()
    assert recognized_ids([SCAN], [other], lambda _: 2, POLICY) == set()
