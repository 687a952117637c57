"""The reports' scan readers (one record read only for what reports need) against the full mappers.

Reports read every record of their window with ``map_manifest_scan`` / ``pi_scan``; every other
reader of records uses ``map_manifest`` / ``pi_record``. Both must read the same values (a report
and a manifest page must not disagree) and both must refuse a record breaking the contract in the
fields they read. Records are the simulators' own renderings of generated trips, across the Kazakh
clock change (2024-03-01) so both offsets occur.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import orjson
import pytest

from customs_gateway.discrepancies import china_rate_date, kazakhstan_rate_date
from customs_gateway.domain import ChinaManifestRecord, Direction, KazakhstanPIRecord
from customs_gateway.errors import UpstreamContract
from customs_gateway.sources.base import ScanRecord
from customs_gateway.sources.china.mapping import map_manifest, map_manifest_scan
from customs_gateway.sources.kazakhstan import mapping, xml
from customs_sim.china import render as cn_render
from customs_sim.generator import DatasetParams, generate_trips
from customs_sim.kazakhstan import render as kz_render
from customs_sim.kazakhstan.documents import list_document
from customs_sim.model import Trip
from customs_sim.rates import nbk_rate

PARAMS = DatasetParams(seed=5, start=dt.date(2024, 2, 28), end=dt.date(2024, 3, 2), trucks_per_day=80)


@pytest.fixture(scope="module")
def trips() -> list[Trip]:
    return list(generate_trips(PARAMS))


def _cn_docs(trips: list[Trip]) -> list[tuple[Trip, dict[str, Any]]]:
    docs = []
    for trip in trips:
        rendered = cn_render.render_trip(trip)
        if rendered is not None:
            docs.append((trip, orjson.loads(rendered.manifest.doc)))
    return docs


def _kz_elements(trips: list[Trip]) -> list[tuple[Trip, xml.Element]]:
    rendered = [(trip, kz_render.render_trip(trip, nbk_rate)) for trip in trips]
    kept = [(trip, records.pi.doc) for trip, records in rendered if records is not None]
    root = xml.parse_document(list_document("PreliminaryInformationList", [doc for _, doc in kept]))
    elements = mapping.list_items(root, "PreliminaryInformation")
    assert len(elements) == len(kept)
    return [(trip, el) for (trip, _), el in zip(kept, elements, strict=True)]


def _lines(record: ScanRecord | ChinaManifestRecord | KazakhstanPIRecord) -> list[tuple[str, str, str, str]]:
    # As text too: a Decimal's exponent (trailing zeros) shows in the reports' figures.
    return [(line.hs6, str(line.gross_kg), str(line.value.amount), line.value.currency) for line in record.goods]


def test_china_scan_reads_what_the_full_manifest_reads(trips: list[Trip]) -> None:
    docs = _cn_docs(trips)
    assert len(docs) > 200
    for trip, raw in docs:
        full, scan = map_manifest(raw), map_manifest_scan(raw)
        assert scan.key == trip.cn_batch_no == full.batch_no
        assert scan.common_manifest_id == trip.common_id == full.common_manifest_id
        exporting = full.direction is Direction.CN_TO_KZ
        assert (scan.direction, scan.declared_at, scan.final_at) == (
            full.direction,
            full.declared_at,
            full.border_crossed_at if exporting else full.released_at,
        )
        assert (scan.plate, scan.carrier, scan.rate_date) == (full.vehicle.plate, full.carrier, china_rate_date(full))
        assert (scan.total_value, str(scan.total_value.amount)) == (full.total_value, str(full.total_value.amount))
        assert _lines(scan) == _lines(full)


def test_kazakhstan_scan_reads_what_the_full_record_reads(trips: list[Trip]) -> None:
    elements = _kz_elements(trips)
    assert len(elements) > 200
    offsets = set()
    for trip, el in elements:
        full, scan = mapping.pi_record(el), mapping.pi_scan(el)
        assert scan.key == trip.kz_pi_number == full.pi_number
        assert scan.common_manifest_id == trip.common_id == full.common_manifest_id
        importing = full.direction is Direction.CN_TO_KZ
        assert (scan.direction, scan.declared_at, scan.final_at) == (
            full.direction,
            full.registered_at,
            full.released_at if importing else full.exited_at,
        )
        assert (scan.plate, scan.carrier, scan.rate_date) == (
            full.vehicle.plate,
            full.carrier,
            kazakhstan_rate_date(full),
        )
        assert (scan.total_value, str(scan.total_value.amount)) == (full.total_value, str(full.total_value.amount))
        assert _lines(scan) == _lines(full)
        offsets.add(scan.declared_at.utcoffset())
    assert offsets == {dt.timedelta(hours=5), dt.timedelta(hours=6)}


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("declTime",), None, "declTime"),
        (("declTime",), "2024-02-28", "declTime"),
        (("ieFlag",), "X", "ieFlag"),
        (("vehicle",), None, "vehicle"),
        (("carrier", "name"), "", "carrier.name"),
        (("totalAmount",), "-1", "totalAmount"),
        (("goods", 0, "codeTs"), "12", "codeTs"),
        (("goods", 0, "grossWt"), "1e3", "grossWt"),
        (("goods", 0, "currCode"), "999", "currCode"),
        (("goods",), "none", "goods"),
    ],
)
def test_a_china_field_reports_read_breaking_the_contract_is_refused(
    trips: list[Trip], path: tuple[str | int, ...], value: object, named: str
) -> None:
    _, raw = _cn_docs(trips)[0]
    target: Any = raw
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(UpstreamContract, match=re.escape(named)):
        map_manifest_scan(raw)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("RegistrationDateTime", "2024-02-28T10:00:00"),
        ("RegistrationDateTime", ""),
        ("Direction", "XX"),
        ("ExchangeRateDate", "28.02.2024"),
        ("TotalInvoiceValue", "1,5"),
        ("InvoiceCurrency", ""),
        ("TNVEDCode", "12"),
        ("GrossMass", "-3"),
        ("InvoiceValue", "abc"),
        ("VehicleRegNumber", ""),
        ("Name", ""),
    ],
)
def test_a_kazakhstan_field_reports_read_breaking_the_contract_is_refused(
    trips: list[Trip], field: str, value: str
) -> None:
    records = kz_render.render_trip(next(t for t in trips if t.kz_pi_number is not None), nbk_rate)
    assert records is not None
    doc = records.pi.doc.decode()
    broken, replaced = re.subn(f"<{field}>[^<]*</{field}>", f"<{field}>{value}</{field}>", doc, count=1)
    assert replaced == 1
    root = xml.parse_document(list_document("PreliminaryInformationList", [broken.encode()]))
    with pytest.raises(UpstreamContract, match=field):
        mapping.pi_scan(mapping.list_items(root, "PreliminaryInformation")[0], 1)
