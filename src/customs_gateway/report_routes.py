"""CSV downloads of the reports: ``GET /reports/<report>.csv`` with the GraphQL filter's fields.

``/reports/trade-flow.csv?from=2025-01-01&to=2025-03-31&crossing=KHORGOS&direction=CN_TO_KZ
&groupBy=CROSSING,HS6&interval=WEEK``; ``/reports/clearance-times.csv`` and
``/reports/inspection-rates.csv`` take ``from``, ``to``, ``crossing`` and ``direction``;
``/reports/valuation-gaps.csv`` those and ``view=largest|hs6|carrier`` (one table per file). The same
filter parsing and :class:`~customs_gateway.reports.ReportService` as GraphQL; the report is
computed first (so a bad filter or a failing authority is a clean 4xx/5xx, not half a file), then
streamed. Errors are JSON ``{"error": {"code", "message"}}`` with the GraphQL codes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .errors import Forbidden, GatewayError, InvalidInput, UpstreamError, UpstreamUnavailable
from .reports import CsvParams, ReportFilter, ReportService, parse_csv_params
from .reports.csv import (
    CLEARANCE_COLUMNS,
    INSPECTION_COLUMNS,
    TRADE_FLOW_COLUMNS,
    VALUATION_COLUMNS,
    VALUATION_VIEWS,
    Cell,
    clearance_cells,
    csv_lines,
    inspection_cells,
    trade_flow_cells,
    valuation_cells,
)
from .security import principal_of
from .security.rules import AGGREGATE_VALUE, VALUATION_GAPS, FieldRule

__all__ = ["report_routes"]

Rows = Callable[[ReportService, ReportFilter, CsvParams], Awaitable[tuple[Sequence[str], list[list[Cell]]]]]


async def _trade_flow(service: ReportService, f: ReportFilter, p: CsvParams) -> tuple[Sequence[str], list[list[Cell]]]:
    rows = await service.trade_flow(f, p.group_by, p.interval)
    return TRADE_FLOW_COLUMNS, [trade_flow_cells(row) for row in rows]


async def _clearance(service: ReportService, f: ReportFilter, p: CsvParams) -> tuple[Sequence[str], list[list[Cell]]]:
    return CLEARANCE_COLUMNS, [clearance_cells(row) for row in await service.clearance_times(f)]


async def _inspections(service: ReportService, f: ReportFilter, p: CsvParams) -> tuple[Sequence[str], list[list[Cell]]]:
    return INSPECTION_COLUMNS, [inspection_cells(row) for row in await service.inspection_rates(f)]


async def _valuation(service: ReportService, f: ReportFilter, p: CsvParams) -> tuple[Sequence[str], list[list[Cell]]]:
    view = p.view or VALUATION_VIEWS[0]
    report = await service.valuation_gaps(f, carrier_id=p.carrier_id)
    return VALUATION_COLUMNS[view], valuation_cells(report, view)


def _error(status: int, error: GatewayError) -> JSONResponse:
    return JSONResponse({"error": {"code": error.code, "message": error.message}}, status_code=status)


def _status(error: GatewayError) -> int:
    if isinstance(error, InvalidInput):
        return 400
    if isinstance(error, Forbidden):
        return 403
    if isinstance(error, UpstreamUnavailable):
        return 503
    if isinstance(error, UpstreamError):
        return 502
    return 500


async def _stream(lines: Iterator[str]) -> AsyncIterator[bytes]:
    for chunk in lines:
        yield chunk.encode("utf-8")


def _endpoint(
    name: str, rows: Rows, *, shaped: bool, rule: FieldRule | None = None, views: Sequence[str] = ()
) -> Callable[[Request], Awaitable[Response]]:
    """``rule``: the field rule of the report's ruled columns; a client it does not allow gets 403
    (a CSV file has no per-cell errors, so the whole download is refused)."""

    async def endpoint(request: Request) -> Response:
        principal = principal_of(request)
        if rule is not None and not rule.allows(principal):
            return _error(403, Forbidden(f"This report is not available to the role {principal.role} ({rule.name})."))
        service: ReportService = request.state.gateway.reports
        query = {key: request.query_params.getlist(key) for key in request.query_params}
        try:
            params = parse_csv_params(query, shaped=shaped, views=views)
            # A carrier's download is cut to its own figures, as its GraphQL answer is.
            params = dataclasses.replace(params, carrier_id=principal.carrier_id)
            f = service.filter(
                start=params.start, end=params.end, crossing_ids=params.crossing_ids, direction=params.direction
            )
            columns, cells = await rows(service, f, params)
        except GatewayError as error:
            return _error(_status(error), error)
        filename = f"{name}_{f.start.isoformat()}_{f.end.isoformat()}.csv"
        return StreamingResponse(
            _stream(csv_lines(columns, cells)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    return endpoint


def report_routes() -> list[Route]:
    return [
        Route(
            "/reports/trade-flow.csv",
            _endpoint("trade-flow", _trade_flow, shaped=True, rule=AGGREGATE_VALUE),
            methods=["GET"],
        ),
        Route("/reports/clearance-times.csv", _endpoint("clearance-times", _clearance, shaped=False), methods=["GET"]),
        Route(
            "/reports/inspection-rates.csv", _endpoint("inspection-rates", _inspections, shaped=False), methods=["GET"]
        ),
        Route(
            "/reports/valuation-gaps.csv",
            _endpoint("valuation-gaps", _valuation, shaped=False, rule=VALUATION_GAPS, views=VALUATION_VIEWS),
            methods=["GET"],
        ),
    ]
