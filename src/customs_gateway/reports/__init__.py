"""Reports over both authorities: trade flows (mirror statistics), clearance times, inspection
rates; aggregated as a stream per (crossing, direction, day) chunk, with cached partials.

Pure of strawberry and of the wire: the schema layer and the CSV endpoints share this service.
"""

from .filters import CsvParams, GroupKey, Interval, ReportFilter, ReportLimits, make_filter, parse_csv_params
from .partials import ChunkPartial, Flow, InspectionPartial, SidePartial
from .rows import ClearanceRow, GapRow, InspectionRow, Percentiles, TradeFlowRow, ValuationReport
from .service import ReportOptions, ReportService
from .valuation import GapTotals, TripGap

__all__ = [
    "ChunkPartial",
    "ClearanceRow",
    "CsvParams",
    "Flow",
    "GapRow",
    "GapTotals",
    "GroupKey",
    "InspectionPartial",
    "InspectionRow",
    "Interval",
    "Percentiles",
    "ReportFilter",
    "ReportLimits",
    "ReportOptions",
    "ReportService",
    "SidePartial",
    "TradeFlowRow",
    "TripGap",
    "ValuationReport",
    "make_filter",
    "parse_csv_params",
]
