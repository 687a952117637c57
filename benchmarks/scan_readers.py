"""CPU per record of each stage of a cold report's scan, on one page of each authority.

Renders one full-volume day (2025-01-10, seed 7) with the simulators' own renderers, takes a KGD
list page of 500 PI records and a GACC page of 100 manifests (the authorities' largest pages),
and times, in CPU seconds (best of ``--repeat``, the machine is shared), each stage a scan worker
runs per page: the reference readers (ElementTree + ``pi_scan``; ``WireObject`` +
``map_manifest_scan``), the reports' readers (:mod:`customs_gateway.sources.kazakhstan.scan`,
:mod:`customs_gateway.sources.china.scan`) with their caches and ``parse_plate``'s emptied before
each run (a cold report meets most plates and carriers for the first time), the fold into a
chunk's sums and the valuation of linked pairs. HTTP, guards and the event loop are not here:
``benchmarks/reports.py`` measures the whole.

Usage: ``python benchmarks/scan_readers.py [--repeat 15]``. Prints figures only (no target: the
target is the whole report's, in ``benchmarks/reports.py``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import time
from collections.abc import Callable
from typing import Any

import orjson

from customs_gateway.domain import ExchangeRate
from customs_gateway.plates import parse_plate
from customs_gateway.reports.scan import SideFold, fold_record
from customs_gateway.reports.valuation_fold import UsdFactors, ValuationFold
from customs_gateway.sources.base import ScanRecord
from customs_gateway.sources.china.mapping import map_manifest_scan
from customs_gateway.sources.china.scan import ManifestScanReader
from customs_gateway.sources.kazakhstan import mapping, xml
from customs_gateway.sources.kazakhstan.scan import ScanPageReader
from customs_sim.china import render as cn_render
from customs_sim.generator import DatasetParams, generate_trips
from customs_sim.kazakhstan import render as kz_render
from customs_sim.kazakhstan.documents import list_document
from customs_sim.rates import nbk_rate

DAY = dt.date(2025, 1, 10)
KZ_PAGE, CN_PAGE = 500, 100


def best(run: Callable[[], object], repeat: int, *, cold: bool = False) -> float:
    """The least CPU seconds of ``repeat`` runs (``cold``: parse_plate's cache emptied first)."""
    times = []
    for _ in range(repeat):
        if cold:
            parse_plate.cache_clear()
        started = time.process_time()
        run()
        times.append(time.process_time() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    trips = list(generate_trips(DatasetParams(start=DAY, end=DAY, seed=7)))
    kz_docs = [r.pi.doc for r in (kz_render.render_trip(t, nbk_rate) for t in trips) if r is not None][:KZ_PAGE]
    kz_body = list_document("PreliminaryInformationList", kz_docs)
    cn_docs = [r.manifest.doc for r in map(cn_render.render_trip, trips) if r is not None][:CN_PAGE]
    cn_body = b'{"code":"0000","message":"ok","data":{"total":%d,"list":[%s]}}' % (len(cn_docs), b",".join(cn_docs))
    cn_raw: list[Any] = orjson.loads(cn_body)["data"]["list"]

    kz_reader = ScanPageReader()
    kz_records = kz_reader.records(kz_reader.extract(kz_body, "/preliminary-information"), 0)
    cn_records = [ManifestScanReader().read(raw) for raw in cn_raw]
    days = {record.rate_date for record in (*kz_records, *cn_records)}
    currencies = ("USD", "CNY", "EUR", "RUB")
    rates = {day: {c: ExchangeRate(c, nbk_rate(day, c), day, "NBK") for c in currencies} for day in days}

    def reference_kz() -> object:
        root = xml.parse_document(kz_body, ("PreliminaryInformationList",))
        return [mapping.pi_scan(el, i) for i, el in enumerate(mapping.list_items(root, "PreliminaryInformation"))]

    def kz_read() -> object:
        reader = ScanPageReader()
        return reader.records(reader.extract(kz_body, "/preliminary-information"), 0)

    def cn_read() -> object:
        reader = ManifestScanReader()
        return [reader.read(raw) for raw in cn_raw]

    def fold(records: list[ScanRecord]) -> Callable[[], object]:
        def run() -> object:
            factors, side = UsdFactors(rates), SideFold()
            return [fold_record(side, record, factors) for record in records]

        return run

    # As the scan values them: each side's lines already in cents (from the fold), a chunk's trips.
    factors = UsdFactors(rates)
    cn_stubs = [fold_record(SideFold(), record, factors) for record in cn_records]
    kz_stubs = [fold_record(SideFold(), record, factors) for record in kz_records]
    pairs = list(zip(cn_stubs, kz_stubs, strict=False))

    def valuation() -> object:
        fold, factors = ValuationFold(), UsdFactors(rates)
        for cn, kz in pairs:
            lines = (cn.usd_by_hs6, kz.usd_by_hs6)
            fold.fold_pair(cn.record, kz.record, rates, "KHORGOS", DAY, lines_usd=lines, factors=factors)
        return fold.partial()

    gc.collect()
    kz_n, cn_n = len(kz_records), len(cn_records)
    lines = [
        ("KGD reference: ElementTree + pi_scan", best(reference_kz, args.repeat, cold=True) / kz_n),
        ("KGD recognizer (decode + match)", best(lambda: ScanPageReader().extract(kz_body, "x"), args.repeat) / kz_n),
        ("KGD recognizer + records, cold caches", best(kz_read, args.repeat, cold=True) / kz_n),
        ("KGD fold", best(fold(kz_records), args.repeat) / kz_n),
        ("GACC orjson (whole page)", best(lambda: orjson.loads(cn_body), args.repeat) / cn_n),
        (
            "GACC reference: map_manifest_scan",
            best(lambda: [map_manifest_scan(r) for r in cn_raw], args.repeat, cold=True) / cn_n,
        ),
        ("GACC reader, cold caches", best(cn_read, args.repeat, cold=True) / cn_n),
        ("GACC fold", best(fold(cn_records), args.repeat) / cn_n),
        ("valuation of a linked pair", best(valuation, args.repeat) / len(pairs)),
    ]
    print(f"one day at full volume ({DAY}): KGD page of {kz_n} records, GACC page of {cn_n} manifests")
    for label, seconds in lines:
        print(f"  {label:42s} {seconds * 1e6:7.1f} µs a record")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
