"""The reports' GACC manifest reader (plain dict access) against ``map_manifest_scan`` (WireObject).

Both must give the same record or raise the same contract error, on the simulators' manifests and
on manifests with one field replaced by any JSON value or removed.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customs_gateway.errors import UpstreamContract
from customs_gateway.sources.base import ScanLine, ScanRecord
from customs_gateway.sources.china.mapping import map_manifest_scan
from customs_gateway.sources.china.scan import ManifestScanReader
from customs_sim.china import render as cn_render
from customs_sim.generator import DatasetParams, generate_trips

PARAMS = DatasetParams(seed=13, start=dt.date(2025, 2, 27), end=dt.date(2025, 3, 1), trucks_per_day=60)


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    rendered = (cn_render.render_trip(trip) for trip in generate_trips(PARAMS))
    return [orjson.loads(r.manifest.doc) for r in rendered if r is not None]


def outcome(read: Any, raw: object) -> tuple[str, object]:
    try:
        record = read(raw)
    except UpstreamContract as exc:
        return "error", exc.message
    return "ok", (record, [(str(line.gross_kg), str(line.value.amount)) for line in record.goods])


def test_the_simulators_manifests_read_alike(manifests: list[dict[str, Any]]) -> None:
    reader = ManifestScanReader()
    assert len(manifests) > 100
    for raw in manifests:
        assert outcome(reader.read, raw) == outcome(map_manifest_scan, raw)
    assert reader.reread == 0  # none needed the reference reader
    # The reader builds its named tuples with tuple.__new__: the classes and their arity, as the reference's.
    for record in map(reader.read, manifests):
        assert type(record) is ScanRecord and len(record) == len(ScanRecord._fields)
        assert all(type(line) is ScanLine and len(line) == len(ScanLine._fields) for line in record.goods)
        assert record == map_manifest_scan(record_source(manifests, record.key))
    assert any(raw["ieFlag"] == "I" for raw in manifests) and any(raw["ieFlag"] == "E" for raw in manifests)



def record_source(manifests: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(raw for raw in manifests if raw["batchNo"] == key)


PATHS = [
    ("batchNo",),
    ("commonManifestNo",),
    ("ieFlag",),
    ("declTime",),
    ("ieTime",),
    ("releaseTime",),
    ("vehicle",),
    ("vehicle", "plateNo"),
    ("carrier",),
    ("carrier", "code"),
    ("carrier", "name"),
    ("carrier", "country"),
    ("totalAmount",),
    ("currCode",),
    ("goods",),
    ("goods", 0),
    ("goods", 0, "codeTs"),
    ("goods", 0, "grossWt"),
    ("goods", 0, "declTotal"),
    ("goods", 0, "currCode"),
]
_REMOVE = object()
VALUES = st.one_of(
    st.just(_REMOVE),
    st.none(),
    st.booleans(),
    st.integers(-2, 10**14),
    st.floats(allow_nan=False),
    st.text(st.sampled_from("0123456789.- EIX新F\u00a0\u0663KZCN"), max_size=16),
    st.sampled_from(
        ["", " ", "142", "502", "999", "20250229120000", "20250228250000", "1204000090", "KZ", "kz", "12.5"]
    ),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["plateNo", "name", "country"]), st.text(max_size=3), max_size=2),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), value=VALUES, which=st.integers(0, 20))
def test_any_replaced_field_reads_as_the_reference_reads_it(
    manifests: list[dict[str, Any]], path: tuple[str | int, ...], value: object, which: int
) -> None:
    raw = copy.deepcopy(manifests[which])
    target: Any = raw
    for step in path[:-1]:
        target = target[step]
    if value is _REMOVE:
        if isinstance(target, dict):
            target.pop(path[-1], None)
        else:
            del target[path[-1]]
    else:
        target[path[-1]] = value
    assert outcome(ManifestScanReader().read, raw) == outcome(map_manifest_scan, raw)
