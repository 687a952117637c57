"""Stable ids are base64 a client can forge around any text: what they name must look like a record
id (a batch or PI number, an inspection number) before the gateway would put it in an upstream URL."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from customs_gateway.domain import Authority, Direction
from customs_gateway.ids import (
    InspectionKey,
    ManifestKey,
    RecordKey,
    decode_inspection_id,
    decode_manifest_id,
    decode_manifest_key,
    encode_inspection_id,
    encode_manifest_id,
)

GENUINE = {Authority.GACC: "9403E2025030100001", Authority.KGD: "55201011-010325-0000001"}
AT = dt.datetime(2025, 3, 1, 8, tzinfo=dt.UTC)
# Text that is not a record id: anything with a character outside the formats' alphabet.
hostile = st.text(min_size=1, max_size=40).filter(lambda t: "|" not in t).map(lambda t: t + "/../?x=1&y\r\n%2F")


def manifest_id(authority: Authority, key: str) -> str:
    return encode_manifest_id(ManifestKey(RecordKey(authority, key), "KHORGOS", Direction.CN_TO_KZ, None, "X1", AT))


def test_genuine_ids_round_trip() -> None:
    for authority, key in GENUINE.items():
        assert decode_manifest_id(manifest_id(authority, key)) == RecordKey(authority, key)
        inspection = InspectionKey(authority, key, "CI94032025030100000001")
        assert decode_inspection_id(encode_inspection_id(inspection)) == inspection


@given(st.sampled_from(list(Authority)), hostile)
def test_a_forged_manifest_id_naming_no_record_is_not_an_id(authority: Authority, key: str) -> None:
    forged = manifest_id(authority, key)
    assert decode_manifest_key(forged) is None and decode_manifest_id(forged) is None


@given(st.sampled_from(list(Authority)), hostile)
def test_a_forged_inspection_id_naming_no_record_is_not_an_id(authority: Authority, text: str) -> None:
    assert decode_inspection_id(encode_inspection_id(InspectionKey(authority, text, "CI1"))) is None
    assert decode_inspection_id(encode_inspection_id(InspectionKey(authority, GENUINE[authority], text))) is None


def test_the_other_authoritys_record_format_is_refused() -> None:
    assert decode_manifest_id(manifest_id(Authority.GACC, GENUINE[Authority.KGD])) is None
    assert decode_manifest_id(manifest_id(Authority.KGD, GENUINE[Authority.GACC])) is None
