"""Report rows as CSV for spreadsheet users: one header line, then one line per row.

Columns mirror the GraphQL fields (snake_case); amounts are written exactly as the GraphQL
answer's decimal strings, empty cells for nulls, RFC 4180 quoting, ``\\r\\n`` line ends.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from .rows import ClearanceRow, InspectionRow, Percentiles, TradeFlowRow, ValuationReport

__all__ = [
    "CLEARANCE_COLUMNS",
    "INSPECTION_COLUMNS",
    "TRADE_FLOW_COLUMNS",
    "VALUATION_COLUMNS",
    "VALUATION_VIEWS",
    "Cell",
    "clearance_cells",
    "csv_lines",
    "inspection_cells",
    "trade_flow_cells",
    "valuation_cells",
]

Cell = str | int | None

TRADE_FLOW_COLUMNS = (
    "period_start",
    "crossing_point",
    "direction",
    "hs_chapter",
    "hs6",
    "china_value_usd",
    "china_gross_kg",
    "china_trucks",
    "kazakhstan_value_usd",
    "kazakhstan_gross_kg",
    "kazakhstan_trucks",
    "value_gap_usd",
    "kazakhstan_to_china_value_ratio",
)
_SIDES = ("china", "kazakhstan", "door_to_door")
_STATS = ("count", "open", "p50_minutes", "p90_minutes", "p99_minutes")
CLEARANCE_COLUMNS = ("crossing_point", "direction", *(f"{side}_{stat}" for side in _SIDES for stat in _STATS))
INSPECTION_COLUMNS = (
    "crossing_point",
    "authority",
    "kind",
    "risk_channel",
    "outcome",
    "inspections",
    "saved_by_recognition",
    "trucks",
    "rate",
)


def _text(value: object) -> Cell:
    return None if value is None else str(value)


def trade_flow_cells(row: TradeFlowRow) -> list[Cell]:
    return [
        row.period.isoformat(),
        row.crossing,
        _text(row.direction),
        row.hs_chapter,
        row.hs6,
        str(row.china.value_usd),
        str(row.china.gross_kg),
        row.china.trucks,
        str(row.kazakhstan.value_usd),
        str(row.kazakhstan.gross_kg),
        row.kazakhstan.trucks,
        str(row.value_gap_usd),
        _text(row.value_ratio),
    ]


def _stats(p: Percentiles) -> list[Cell]:
    return [p.count, p.open, p.p50, p.p90, p.p99]


def clearance_cells(row: ClearanceRow) -> list[Cell]:
    return [row.crossing, row.direction.value, *_stats(row.china), *_stats(row.kazakhstan), *_stats(row.door_to_door)]


def inspection_cells(row: InspectionRow) -> list[Cell]:
    return [
        row.crossing,
        row.authority.value,
        row.kind,
        row.risk_channel,
        row.outcome,
        row.inspections,
        row.saved_by_recognition,
        row.trucks,
        _text(row.rate),
    ]


VALUATION_VIEWS = ("largest", "hs6", "carrier")
VALUATION_COLUMNS = {
    "largest": (
        "crossing_point",
        "direction",
        "day",
        "china_batch_no",
        "kazakhstan_pi_number",
        "carrier_id",
        "carrier_name",
        "china_usd",
        "kazakhstan_usd",
        "gap_usd",
        "relative_gap",
    ),
    "hs6": ("hs6", "china_usd", "kazakhstan_usd", "gap_usd", "trips", "relative_gap"),
    "carrier": ("carrier_id", "carrier_name", "china_usd", "kazakhstan_usd", "gap_usd", "trips", "relative_gap"),
}


def valuation_cells(report: ValuationReport, view: str) -> list[list[Cell]]:
    """One table of the valuation report: ``largest`` trips, or totals by ``hs6`` or ``carrier``."""
    if view == "largest":
        return [
            [
                gap.crossing,
                gap.direction.value,
                gap.day.isoformat(),
                gap.china_batch_no,
                gap.kazakhstan_pi_number,
                gap.carrier_id,
                gap.carrier_name,
                str(gap.china_usd),
                str(gap.kazakhstan_usd),
                str(gap.gap_usd),
                _text(gap.relative_gap),
            ]
            for gap in report.largest
        ]
    rows = report.by_hs6 if view == "hs6" else report.by_carrier
    return [
        [
            row.key,
            *([] if view == "hs6" else [row.name]),
            str(row.totals.china_usd),
            str(row.totals.kazakhstan_usd),
            str(row.totals.gap_usd),
            row.totals.trips,
            _text(row.relative_gap),
        ]
        for row in rows
    ]


def csv_lines(columns: Sequence[str], rows: Iterable[Sequence[Cell]], *, batch: int = 500) -> Iterator[str]:
    """The header, then the rows, ``batch`` lines per yielded string (a streamed response body)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    pending = 1
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
        pending += 1
        if pending >= batch:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()
