"""Report rows as CSV for spreadsheet users: one header line, then one line per row.

Columns mirror the GraphQL fields (snake_case); amounts are written exactly as the GraphQL
answer's decimal strings, empty cells for nulls, RFC 4180 quoting, ``\\r\\n`` line ends.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from .service import ClearanceRow, InspectionRow, Percentiles, TradeFlowRow

__all__ = [
    "CLEARANCE_COLUMNS",
    "INSPECTION_COLUMNS",
    "TRADE_FLOW_COLUMNS",
    "Cell",
    "clearance_cells",
    "csv_lines",
    "inspection_cells",
    "trade_flow_cells",
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
