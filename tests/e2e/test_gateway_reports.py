"""Reports over the generated dataset (5 days, 300 trucks a day), checked against its ground truth.

Every expected figure is computed here from the simulators' ground truth trips (values converted
with the simulated National Bank's own rate function), never from the gateway's answers. The CSV
downloads are parsed and compared with the GraphQL answer for the same filter.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import multiprocessing
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import DataWorld, gql
from tests.e2e.faults import injected
from tests.security_fixtures import carrier_headers

from customs_sim.model import Direction, EventKind, InspectionKind, InspectionResult, Side, Trip
from customs_sim.rates import nbk_rate
from customs_sim.reference import CROSSINGS

FROM, TO = "2025-02-28", "2025-03-06"
CN_TZ, KZ_TZ = dt.timezone(dt.timedelta(hours=8)), dt.timezone(dt.timedelta(hours=5))
GATEWAY_DIRECTION = {Direction.CN_TO_KZ: "CN_TO_KZ", Direction.KZ_TO_CN: "KZ_TO_CN"}
KIND = {
    InspectionKind.H986_SCAN: "XRAY_SCAN",
    InspectionKind.MANUAL: "MANUAL_INSPECTION",
    InspectionKind.OPENING: "OPENING",
    InspectionKind.DOCUMENT_CHECK: "DOCUMENT_CHECK",
    InspectionKind.XRAY: "XRAY_SCAN",
    InspectionKind.EXAMINATION: "EXAMINATION",
    InspectionKind.WEIGHING: "WEIGHING",
}
PHASE = {crossing.id: crossing.phase for crossing in CROSSINGS}
OUTCOME = {InspectionResult.NORMAL: "NO_FINDINGS", InspectionResult.ABNORMAL: "VIOLATION"}

TRADE_FLOW = """query($f: ReportFilterInput!, $g: [TradeFlowGroup!], $i: ReportInterval!) {
  tradeFlow(filter: $f, groupBy: $g, interval: $i) {
    periodStart crossingPoint direction hsChapter hs6
    china { valueUsd grossKg trucks } kazakhstan { valueUsd grossKg trucks }
    valueGapUsd kazakhstanToChinaValueRatio
  } }"""
CLEARANCE = """query($f: ReportFilterInput!) { clearanceTimes(filter: $f) {
    crossingPoint direction
    china { count open p50Minutes p90Minutes p99Minutes }
    kazakhstan { count open p50Minutes p90Minutes p99Minutes }
    doorToDoor { count open p50Minutes p90Minutes p99Minutes } } }"""
INSPECTIONS = """query($f: ReportFilterInput!) { inspectionRates(filter: $f) {
    crossingPoint authority kind riskChannel outcome inspections savedByRecognition trucks rate } }"""


def usd(amount: Decimal, currency: str, day: dt.date) -> Decimal:
    if currency == "USD":
        return amount.quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    return (amount * nbk_rate(day, currency) / nbk_rate(day, "USD")).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def in_window(at: dt.datetime) -> bool:
    return dt.date.fromisoformat(FROM) <= at.astimezone(dt.UTC).date() <= dt.date.fromisoformat(TO)


def cn_declared(trip: Trip) -> dt.datetime | None:
    event = trip.event(EventKind.CN_DECLARED) if trip.cn_batch_no and Side.CN in trip.seen_by else None
    return event.at if event is not None and in_window(event.at) else None


def kz_declared(trip: Trip) -> dt.datetime | None:
    event = trip.event(EventKind.KZ_PI_SUBMITTED) if trip.kz_pi_number and Side.KZ in trip.seen_by else None
    return event.at if event is not None and in_window(event.at) else None


def sides(trip: Trip) -> Iterator[tuple[str, dt.datetime, list[tuple[str, Decimal, Decimal]]]]:
    """(side, declared at, [(hs6, usd, gross kg)]) for each side that recorded the trip in the window."""
    if (at := cn_declared(trip)) is not None:
        day = at.astimezone(CN_TZ).date()
        yield "china", at, [(i.hs6, usd(i.cn_value, trip.cn_currency, day), i.cn_gross_kg) for i in trip.items]
    if (at := kz_declared(trip)) is not None:
        day = at.astimezone(KZ_TZ).date()
        yield (
            "kazakhstan",
            at,
            [(i.kz_code[:6], usd(i.kz_value, trip.invoice_currency, day), i.kz_gross_kg) for i in trip.items],
        )


def reports(client: httpx.Client, query: str, **variables: Any) -> list[dict[str, Any]]:
    body = gql(client, query, **variables)
    assert "errors" not in body, body
    rows: list[dict[str, Any]] = next(iter(body["data"].values()))
    return rows


@pytest.fixture(scope="module")
def trips(data: DataWorld) -> list[Trip]:
    return list(data.truth.trips())


def test_trade_flow_by_crossing_direction_day_matches_the_ground_truth(
    data_client: httpx.Client, trips: list[Trip]
) -> None:
    expected: dict[tuple[str, str, str], dict[str, list[Any]]] = defaultdict(
        lambda: {"china": [Decimal(0), Decimal(0), 0], "kazakhstan": [Decimal(0), Decimal(0), 0]}
    )
    for trip in trips:
        for side, at, lines in sides(trip):
            cell = expected[
                (at.astimezone(dt.UTC).date().isoformat(), trip.crossing, GATEWAY_DIRECTION[trip.direction])
            ][side]
            cell[0] += sum(value for _, value, _ in lines)
            cell[1] += sum(mass for _, _, mass in lines)
            cell[2] += 1
    rows = reports(data_client, TRADE_FLOW, f={"from": FROM, "to": TO}, g=["CROSSING", "DIRECTION"], i="DAY")
    got = {
        (r["periodStart"], r["crossingPoint"], r["direction"]): {
            side: [Decimal(r[side]["valueUsd"]), Decimal(r[side]["grossKg"]), r[side]["trucks"]]
            for side in ("china", "kazakhstan")
        }
        for r in rows
    }
    assert got == dict(expected)
    assert sum(cell["china"][2] for cell in got.values()) > 1000  # the whole dataset, not a slice
    for r in rows:
        assert Decimal(r["valueGapUsd"]) == Decimal(r["china"]["valueUsd"]) - Decimal(r["kazakhstan"]["valueUsd"])


def test_trade_flow_by_hs6_per_month_for_one_crossing(data_client: httpx.Client, trips: list[Trip]) -> None:
    expected: dict[str, dict[str, list[Any]]] = defaultdict(
        lambda: {"china": [Decimal(0), Decimal(0), 0], "kazakhstan": [Decimal(0), Decimal(0), 0]}
    )
    for trip in trips:
        if trip.crossing != "KHORGOS" or trip.direction is not Direction.CN_TO_KZ:
            continue
        for side, _, lines in sides(trip):
            for code in {code for code, _, _ in lines}:
                expected[code][side][2] += 1
            for code, value, mass in lines:
                expected[code][side][0] += value
                expected[code][side][1] += mass
    rows = reports(
        data_client,
        TRADE_FLOW,
        f={"from": "2025-03-01", "to": "2025-03-03", "crossingPoints": ["KHORGOS"], "direction": "CN_TO_KZ"},
        g=["HS6"],
        i="MONTH",
    )
    assert rows, "no rows"
    assert {r["periodStart"] for r in rows} <= {"2025-03-01"}  # every day of the window is in March
    # The window here is 03-01..03-03: recompute the expectation on that window only.
    expected.clear()
    for trip in trips:
        if trip.crossing != "KHORGOS" or trip.direction is not Direction.CN_TO_KZ:
            continue
        for side, at, lines in sides(trip):
            if not dt.date(2025, 3, 1) <= at.astimezone(dt.UTC).date() <= dt.date(2025, 3, 3):
                continue
            for code in {code for code, _, _ in lines}:
                expected[code][side][2] += 1
            for code, value, mass in lines:
                expected[code][side][0] += value
                expected[code][side][1] += mass
    got = {
        r["hs6"]: {
            side: [Decimal(r[side]["valueUsd"]), Decimal(r[side]["grossKg"]), r[side]["trucks"]]
            for side in ("china", "kazakhstan")
        }
        for r in rows
    }
    assert got == dict(expected)
    assert all(r["crossingPoint"] is None and r["direction"] is None for r in rows)


def nearest_rank(values: list[int], q: float) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def minutes(start: dt.datetime, end: dt.datetime) -> int:
    return int((end - start).total_seconds() // 60)


def stats(values: list[int], open_: int) -> dict[str, Any]:
    return {
        "count": len(values),
        "open": open_,
        "p50Minutes": nearest_rank(values, 0.5),
        "p90Minutes": nearest_rank(values, 0.9),
        "p99Minutes": nearest_rank(values, 0.99),
    }


def test_clearance_times_match_the_ground_truth(data_client: httpx.Client, trips: list[Trip]) -> None:
    durations: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    still_open: Counter[tuple[str, str, str]] = Counter()
    cross_day: Counter[tuple[str, str]] = Counter()
    for trip in trips:
        direction = GATEWAY_DIRECTION[trip.direction]
        export = trip.direction is Direction.CN_TO_KZ
        cn_final = trip.event(EventKind.CN_EXITED if export else EventKind.CN_RELEASED)
        kz_final = trip.event(EventKind.KZ_RELEASED if export else EventKind.KZ_EXITED)
        cn_at, kz_at = cn_declared(trip), kz_declared(trip)
        for side, at, final in (("china", cn_at, cn_final), ("kazakhstan", kz_at, kz_final)):
            if at is None:
                continue
            if final is None:
                still_open[(trip.crossing, direction, side)] += 1
            else:
                durations[(trip.crossing, direction, side)].append(minutes(at, final.at))
        # Door to door: both records declared in the window, on the same UTC day or not (a chunk
        # links its own day, the report the loose ends of its days); exporting declaration to
        # importing final event.
        if cn_at is not None and kz_at is not None:
            start, final = (cn_at, kz_final) if export else (kz_at, cn_final)
            if final is not None:
                durations[(trip.crossing, direction, "doorToDoor")].append(minutes(start, final.at))
                if cn_at.astimezone(dt.UTC).date() != kz_at.astimezone(dt.UTC).date():
                    cross_day[(trip.crossing, direction)] += 1
    rows = reports(data_client, CLEARANCE, f={"from": FROM, "to": TO})
    assert len(rows) == 10
    for row in rows:
        key = (row["crossingPoint"], row["direction"])
        for side in ("china", "kazakhstan"):
            assert row[side] == stats(durations[(*key, side)], still_open[(*key, side)]), (key, side)
        want = stats(durations[(*key, "doorToDoor")], 0)
        if PHASE[row["crossingPoint"]] >= 1:  # linked by common manifest id: exact
            assert row["doorToDoor"] == want, key
        else:  # linked by plate and time: a truck with two trips a day may be paired with the other one
            got = row["doorToDoor"]
            assert abs(got["count"] - want["count"]) <= max(1, want["count"] // 50), key
            for stat in ("p50Minutes", "p90Minutes"):
                assert abs(got[stat] - want[stat]) <= want[stat] * 0.05, (key, stat)
    assert all(row["doorToDoor"]["count"] > 0 for row in rows)
    # The trips across midnight UTC are many (the long ones): counted only by linking across days.
    assert all(cross_day[(row["crossingPoint"], row["direction"])] > 0 for row in rows)
    assert sum(cross_day.values()) > sum(row["doorToDoor"]["count"] for row in rows) // 5


def test_inspection_rates_match_the_ground_truth(data_client: httpx.Client, trips: list[Trip]) -> None:
    counts: Counter[tuple[str, str, str, str | None, str]] = Counter()
    saved: Counter[tuple[str, str, str, str | None, str]] = Counter()
    trucks: Counter[tuple[str, str]] = Counter()
    for trip in trips:
        if cn_declared(trip) is not None:
            trucks[(trip.crossing, "GACC")] += 1
        if kz_declared(trip) is not None:
            trucks[(trip.crossing, "KGD")] += 1
        for inspection in trip.inspections:
            if not in_window(inspection.started_at):
                continue
            authority = "GACC" if inspection.side is Side.CN else "KGD"
            channel = trip.kz_corridor if inspection.side is Side.KZ else None
            key = (trip.crossing, authority, KIND[inspection.kind], channel, OUTCOME[inspection.result])
            if inspection.recognized_inspection_id is not None:
                saved[key] += 1
            else:
                counts[key] += 1
    rows = reports(data_client, INSPECTIONS, f={"from": FROM, "to": TO})
    got = {
        (r["crossingPoint"], r["authority"], r["kind"], r["riskChannel"], r["outcome"]): (
            r["inspections"],
            r["savedByRecognition"],
            r["trucks"],
        )
        for r in rows
    }
    want = {key: (counts[key], saved[key], trucks[(key[0], key[1])]) for key in counts.keys() | saved.keys()}
    assert got == want
    assert sum(saved.values()) > 0  # Khorgos (phase 2) recognizes scans
    assert {key[0] for key in saved} == {"KHORGOS"}


def csv_rows(client: httpx.Client, path: str, **params: Any) -> list[dict[str, str]]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def cell(value: Any) -> str:
    return "" if value is None else str(value)


def test_trade_flow_csv_equals_the_graphql_answer(data_client: httpx.Client) -> None:
    rows = reports(
        data_client,
        TRADE_FLOW,
        f={"from": FROM, "to": TO, "crossingPoints": ["KHORGOS", "DULATA"]},
        g=["CROSSING", "HS_CHAPTER"],
        i="WEEK",
    )
    table = csv_rows(
        data_client,
        "/reports/trade-flow.csv",
        **{"from": FROM, "to": TO, "crossing": "KHORGOS,DULATA", "groupBy": "CROSSING,HS_CHAPTER", "interval": "week"},
    )
    assert len(table) == len(rows) > 10
    for line, row in zip(table, rows, strict=True):
        assert line["period_start"] == row["periodStart"]
        assert dt.date.fromisoformat(line["period_start"]).weekday() == 0
        assert line["crossing_point"] == row["crossingPoint"]
        assert line["hs_chapter"] == row["hsChapter"] and line["hs6"] == ""
        for side in ("china", "kazakhstan"):
            assert line[f"{side}_value_usd"] == row[side]["valueUsd"]
            assert line[f"{side}_gross_kg"] == row[side]["grossKg"]
            assert int(line[f"{side}_trucks"]) == row[side]["trucks"]
        assert line["value_gap_usd"] == row["valueGapUsd"]
        assert line["kazakhstan_to_china_value_ratio"] == cell(row["kazakhstanToChinaValueRatio"])


def test_clearance_and_inspection_csv_equal_the_graphql_answers(data_client: httpx.Client) -> None:
    window = {"from": FROM, "to": TO, "crossingPoints": ["KHORGOS"]}
    clearance = reports(data_client, CLEARANCE, f=window)
    table = csv_rows(data_client, "/reports/clearance-times.csv", **{"from": FROM, "to": TO, "crossing": "KHORGOS"})
    assert [line["direction"] for line in table] == [row["direction"] for row in clearance]
    for line, row in zip(table, clearance, strict=True):
        for side, prefix in (("china", "china"), ("kazakhstan", "kazakhstan"), ("doorToDoor", "door_to_door")):
            assert line[f"{prefix}_p90_minutes"] == cell(row[side]["p90Minutes"])
            assert line[f"{prefix}_count"] == cell(row[side]["count"])
    inspections = reports(data_client, INSPECTIONS, f=window)
    table = csv_rows(data_client, "/reports/inspection-rates.csv", **{"from": FROM, "to": TO, "crossing": "KHORGOS"})
    assert [(line["kind"], line["inspections"], line["rate"]) for line in table] == [
        (row["kind"], str(row["inspections"]), cell(row["rate"])) for row in inspections
    ]


def test_a_warm_report_asks_no_authority(data: DataWorld, data_client: httpx.Client) -> None:
    variables = {"f": {"from": "2025-03-02", "to": "2025-03-04"}, "g": ["CROSSING"], "i": "DAY"}
    cold = reports(data_client, TRADE_FLOW, **variables)
    data.china.reset()
    data.kazakhstan.reset()
    warm = reports(data_client, TRADE_FLOW, **variables)
    assert warm == cold
    assert sum(data.china.counters().values()) == 0
    assert sum(data.kazakhstan.counters().values()) == 0


@pytest.mark.parametrize(
    ("filter", "message"),
    [
        ({"from": "2025-03-05", "to": "2025-03-01"}, "before"),
        ({"from": "2024-01-01", "to": "2025-03-01"}, "at most 366 days"),
        ({"from": "2025-03-01", "to": "2025-03-02", "crossingPoints": ["NOWHERE"]}, "unknown crossing point"),
    ],
)
def test_bad_report_filters_are_bad_user_input(data_client: httpx.Client, filter: dict[str, Any], message: str) -> None:
    body = gql(data_client, TRADE_FLOW, f=filter, g=None, i="DAY")
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in error["message"]


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/reports/trade-flow.csv", {"to": "2025-03-02"}, "'from' is required"),
        ("/reports/trade-flow.csv", {"from": "2025-03-01", "to": "March"}, "'to' must be a date"),
        ("/reports/trade-flow.csv", {"from": "2025-03-01", "to": "2025-03-02", "groupBy": "PLATE"}, "'groupBy'"),
        ("/reports/trade-flow.csv", {"from": "2025-03-01", "to": "2025-03-02", "crossing": "X"}, "unknown crossing"),
        ("/reports/trade-flow.csv", {"from": "2025-03-01", "to": "2025-03-02", "foo": "1"}, "unknown parameter"),
        ("/reports/clearance-times.csv", {"from": "2025-03-01", "to": "2025-03-02", "interval": "DAY"}, "unknown"),
        (
            "/reports/inspection-rates.csv",
            {"from": "2025-03-01", "to": "2025-03-02", "direction": "CN_TO_KZ"},
            "leave 'direction' out",
        ),
    ],
)
def test_bad_csv_filters_are_400_with_a_message(
    data_client: httpx.Client, path: str, params: dict[str, str], message: str
) -> None:
    response = data_client.get(path, params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "BAD_USER_INPUT"
    assert message in error["message"]


VALUATION = """query($f: ReportFilterInput!, $n: Int!) { valuationGaps(filter: $f) {
    total { chinaUsd kazakhstanUsd gapUsd trips } unpricedTrips
    byHs6(first: $n) { hs6 totals { chinaUsd kazakhstanUsd gapUsd trips } }
    byCarrier(first: $n) { carrierId totals { chinaUsd kazakhstanUsd gapUsd trips } }
    largest(first: $n) { chinaBatchNo kazakhstanPiNumber carrierId chinaUsd kazakhstanUsd gapUsd } } }"""
LINKED_BY_ID = ["KHORGOS", "DULATA", "JEMINAY"]  # phase >= 1: linked by common manifest id, exactly


def linked_gaps(trips: list[Trip]) -> list[dict[str, Any]]:
    """Trips both sides recorded in the window (on the same UTC day or not) at the phase >= 1
    crossings, with their gaps."""
    out = []
    for trip in trips:
        cn_at, kz_at = cn_declared(trip), kz_declared(trip)
        if trip.crossing not in LINKED_BY_ID or cn_at is None or kz_at is None:
            continue
        cn_day, kz_day = cn_at.astimezone(CN_TZ).date(), kz_at.astimezone(KZ_TZ).date()
        cn = usd(sum((i.cn_value for i in trip.items), Decimal(0)), trip.cn_currency, cn_day)
        kz = usd(sum((i.kz_value for i in trip.items), Decimal(0)), trip.invoice_currency, kz_day)
        export = trip.direction is Direction.CN_TO_KZ
        hs6: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for item in trip.items:
            hs6[item.hs6][0] += usd(item.cn_value, trip.cn_currency, cn_day)
            hs6[item.kz_code[:6]][1] += usd(item.kz_value, trip.invoice_currency, kz_day)
        out.append(
            {
                "trip": trip,
                "cn": cn,
                "kz": kz,
                "gap": kz - cn if export else cn - kz,
                "hs6": {code: (c, k, k - c if export else c - k) for code, (c, k) in hs6.items()},
            }
        )
    return out


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "chinaUsd": str(sum((r["cn"] for r in rows), Decimal(0))),
        "kazakhstanUsd": str(sum((r["kz"] for r in rows), Decimal(0))),
        "gapUsd": str(sum((r["gap"] for r in rows), Decimal(0))),
        "trips": len(rows),
    }


def same_totals(got: dict[str, Any], want: dict[str, Any]) -> bool:
    return all(Decimal(str(got[k])) == Decimal(str(want[k])) for k in want)


def test_valuation_gaps_match_the_ground_truth(data_client: httpx.Client, trips: list[Trip]) -> None:
    linked = linked_gaps(trips)
    body = gql(data_client, VALUATION, f={"from": FROM, "to": TO, "crossingPoints": LINKED_BY_ID}, n=100)
    assert "errors" not in body, body
    report = body["data"]["valuationGaps"]
    assert report["unpricedTrips"] == 0
    assert same_totals(report["total"], totals(linked))
    assert Decimal(report["total"]["gapUsd"]) < 0  # undervalued imports are injected
    # Largest gaps: the same trips, in order of absolute gap.
    ranked = sorted(linked, key=lambda r: (-abs(r["gap"]), r["trip"].cn_batch_no))
    got = [(g["chinaBatchNo"], g["kazakhstanPiNumber"], Decimal(g["gapUsd"])) for g in report["largest"]]
    assert got == [(r["trip"].cn_batch_no, r["trip"].kz_pi_number, r["gap"]) for r in ranked[:100]]
    # By carrier and by HS-6: every row returned is the truth's figure for that key.
    by_carrier: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_hs6: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0), Decimal(0)])
    for r in linked:
        by_carrier[r["trip"].carrier.id].append(r)
        for code, (c, k, g) in r["hs6"].items():
            cell = by_hs6[code]
            cell[0], cell[1], cell[2], cell[3] = cell[0] + c, cell[1] + k, cell[2] + g, cell[3] + 1
    assert report["byCarrier"]
    for row in report["byCarrier"]:
        assert same_totals(row["totals"], totals(by_carrier[row["carrierId"]])), row["carrierId"]
    assert len(report["byHs6"]) == min(100, len(by_hs6))
    for row in report["byHs6"]:
        c, k, g, n = by_hs6[row["hs6"]]
        assert same_totals(row["totals"], {"chinaUsd": c, "kazakhstanUsd": k, "gapUsd": g, "trips": n}), row["hs6"]


def test_a_carrier_sees_only_its_own_valuation_gaps(data: DataWorld, trips: list[Trip]) -> None:
    linked = linked_gaps(trips)
    carrier = Counter(r["trip"].carrier.id for r in linked).most_common(1)[0][0]
    own = [r for r in linked if r["trip"].carrier.id == carrier]
    with httpx.Client(base_url=data.gateway_url, timeout=60, headers=carrier_headers(carrier)) as http:
        body = gql(http, VALUATION, f={"from": FROM, "to": TO, "crossingPoints": LINKED_BY_ID}, n=100)
        table = http.get(
            "/reports/valuation-gaps.csv",
            params={"from": FROM, "to": TO, "crossing": ",".join(LINKED_BY_ID), "view": "carrier"},
        )
    assert "errors" not in body, body
    report = body["data"]["valuationGaps"]
    assert same_totals(report["total"], totals(own))
    assert [row["carrierId"] for row in report["byCarrier"]] == [carrier]
    assert report["byHs6"] == []
    assert report["largest"] and {gap["carrierId"] for gap in report["largest"]} == {carrier}
    assert table.status_code == 200, table.text
    assert [line["carrier_id"] for line in csv.DictReader(io.StringIO(table.text))] == [carrier]


def test_valuation_csv_equals_the_graphql_answer(data_client: httpx.Client) -> None:
    body = gql(data_client, VALUATION, f={"from": FROM, "to": TO}, n=100)
    assert "errors" not in body, body
    report = body["data"]["valuationGaps"]
    largest = csv_rows(data_client, "/reports/valuation-gaps.csv", **{"from": FROM, "to": TO})
    assert [(line["china_batch_no"], line["gap_usd"]) for line in largest] == [
        (gap["chinaBatchNo"], gap["gapUsd"]) for gap in report["largest"]
    ]
    hs6 = csv_rows(data_client, "/reports/valuation-gaps.csv", **{"from": FROM, "to": TO, "view": "hs6"})
    assert [(line["hs6"], line["gap_usd"]) for line in hs6][:100] == [
        (row["hs6"], row["totals"]["gapUsd"]) for row in report["byHs6"]
    ]
    bad = data_client.get("/reports/valuation-gaps.csv", params={"from": FROM, "to": TO, "view": "plates"})
    assert bad.status_code == 400 and "'view'" in bad.json()["error"]["message"]


def test_an_authority_down_fails_the_report_cleanly_and_caches_nothing(
    data: DataWorld, data_client: httpx.Client, trips: list[Trip]
) -> None:
    probe = next(t.cn_batch_no for t in trips if t.cn_batch_no and t.kz_pi_number and t.event(EventKind.CN_DECLARED))
    window = {"from": "2025-03-07", "to": "2025-03-07", "crossingPoints": ["BAKHTY"]}  # read by no other test
    with injected(data.kazakhstan.admin, data_client, probe, outage=True):
        body = gql(data_client, TRADE_FLOW, f=window, g=["CROSSING"], i="DAY")
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
        assert error["extensions"]["authority"] == "KGD"
        response = data_client.get(
            "/reports/clearance-times.csv", params={"from": "2025-03-07", "to": "2025-03-07", "crossing": "BAKHTY"}
        )
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "UPSTREAM_UNAVAILABLE"
    data.kazakhstan.reset()
    # Each scan worker has its own KGD circuit, which the recovery probe above (a manifest lookup,
    # in the server process) does not reach: ask until a worker's probe has closed it.
    deadline = time.monotonic() + 10
    body = gql(data_client, TRADE_FLOW, f=window, g=["CROSSING"], i="DAY")
    while "errors" in body and time.monotonic() < deadline:
        assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE", body
        time.sleep(0.05)
        body = gql(data_client, TRADE_FLOW, f=window, g=["CROSSING"], i="DAY")
    assert body["data"]["tradeFlow"] == [], body  # no trips that day
    time.sleep(0.25)  # past max_open_s (0.2): the other worker's circuit lets its next call probe
    assert sum(data.kazakhstan.counters().values()) > 0  # scanned again: the failed chunks were not cached


def test_the_reports_here_run_in_two_scan_worker_processes(data_client: httpx.Client) -> None:
    """This world's gateway scans with ``[reports] scan_workers = 2`` (tests/e2e/conftest.py): the
    answers above, checked against the ground truth, are the workers' partials merged."""
    reports(data_client, TRADE_FLOW, f={"from": FROM, "to": TO}, g=["CROSSING"], i="DAY")
    workers = [p for p in multiprocessing.active_children() if p.name.startswith("report-scan-")]
    assert sorted(p.name for p in workers) == ["report-scan-0", "report-scan-1"]
    assert all(p.is_alive() for p in workers)
