"""Properties of the China simulator's pure parts: plate keys, Beijing times, signing, nonces.

(Kept next to the HTTP tests because they pin down the same wire contract from the inside.)
"""

from __future__ import annotations

import datetime as dt
import random
import string
from decimal import Decimal
from unittest.mock import patch
from urllib.parse import urlencode

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import Headers

from customs_sim.china.auth import NonceStore, SignatureVerifier
from customs_sim.china.envelope import MESSAGES, ApiError, envelope_response, ok_list_response
from customs_sim.china.render import amount, cn_time, parse_cn_time, plate_key, weight
from customs_sim.china.signing import canonical_query, sign_headers

SECRET = "s3cret"
PROVINCES = st.sampled_from("新京沪粤")
ALNUM = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=5, max_size=6)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@given(province=PROVINCES, letter=st.sampled_from("EFGH"), number=ALNUM,
       dots=st.sampled_from(["", "·", " ", " · ", "\u3000"]), wide=st.booleans(), lower=st.booleans())
def test_plate_key_ignores_how_a_plate_is_written(
    province: str, letter: str, number: str, dots: str, wide: bool, lower: bool
) -> None:
    canonical = f"{province}{letter}{number}"
    written = f"{province}{letter}{dots}{number}"
    written = full_width(written) if wide else written
    written = written.lower() if lower else written
    assert plate_key(written) == plate_key(canonical) == canonical
    assert plate_key(plate_key(written)) == plate_key(written)


@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 30),
                    timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=5))])))
def test_beijing_time_round_trips(at: dt.datetime) -> None:
    at = at.replace(microsecond=0)
    text = cn_time(at)
    assert len(text) == 14 and text.isdigit()
    assert parse_cn_time(text) == int(at.timestamp())
    assert text == at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y%m%d%H%M%S")


@pytest.mark.parametrize("bad", ["2025030110000", "20250230100000", "2025-03-01T10", "２０２５０３０１１０００００"])
def test_malformed_times_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match=r"yyyyMMddHHmmss|does not match|day is out of range"):
        parse_cn_time(bad)


def test_cn_time_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        cn_time(dt.datetime(2025, 3, 1))


@given(st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False))
def test_weights_and_amounts_have_fixed_decimals(value: Decimal) -> None:
    assert len(weight(value).rsplit(".", 1)[1]) == 3
    assert len(amount(value).rsplit(".", 1)[1]) == 2


PAIRS = st.lists(st.tuples(st.text(min_size=1, max_size=8), st.text(max_size=12)), max_size=6)


@given(PAIRS, st.randoms())
def test_canonical_query_does_not_depend_on_order(pairs: list[tuple[str, str]], rnd: random.Random) -> None:
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    assert canonical_query(shuffled) == canonical_query(pairs)


def test_canonical_query_encodes_rfc3986() -> None:
    assert canonical_query([("plateNo", "新F·1 2"), ("a", "~-_.*+")]) == (
        "a=~-_.%2A%2B&plateNo=%E6%96%B0F%C2%B71%202"
    )


def verifier(now_s: float, capacity: int = 1000) -> SignatureVerifier:
    return SignatureVerifier({"app": SECRET}, lambda: now_s, 300.0, NonceStore(300.0, capacity))


def query_bytes(pairs: list[tuple[str, str]]) -> bytes:
    # What a client puts on the wire: any valid percent-encoding of the pairs (here "+" for spaces).
    return urlencode(pairs).encode()


@given(path=st.sampled_from(["/gacc/api/v1/ports", "/gacc/api/v1/road-manifests/%39403E1"]),
       pairs=PAIRS, body=st.binary(max_size=64), method=st.sampled_from(["GET", "POST"]))
def test_whatever_sign_headers_signs_the_verifier_accepts(
    path: str, pairs: list[tuple[str, str]], body: bytes, method: str
) -> None:
    now = 1_750_000_000.0
    headers = sign_headers("app", SECRET, method, path, pairs, body, now_ms=int(now * 1000))
    verifier(now).verify(method, path, query_bytes(pairs), body, Headers(headers))


@given(body=st.binary(min_size=1, max_size=64), index=st.integers(min_value=0, max_value=63))
def test_any_changed_body_byte_breaks_the_signature(body: bytes, index: int) -> None:
    now = 1_750_000_000.0
    headers = sign_headers("app", SECRET, "POST", "/p", (), body, now_ms=int(now * 1000))
    index %= len(body)
    tampered = body[:index] + bytes([body[index] ^ 1]) + body[index + 1:]
    with pytest.raises(ApiError) as raised:
        verifier(now).verify("POST", "/p", b"", tampered, Headers(headers))
    assert raised.value.code == "E4003"


def test_nonce_store_forgets_after_ttl_and_stays_bounded() -> None:
    store = NonceStore(ttl_s=300.0, capacity=3)
    assert store.check_and_remember("a", 0.0)
    assert not store.check_and_remember("a", 299.0)
    assert store.check_and_remember("a", 301.0)  # expired: a new request may use it again
    for key in ("b", "c", "d", "e"):
        assert store.check_and_remember(key, 302.0)
    assert len(store) == 3


JSON_VALUES = st.one_of(st.integers(-(2**53), 2**53), st.text(max_size=12))
JSON_DOCS = st.lists(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4).map(orjson.dumps), max_size=12)


@given(JSON_DOCS, st.binary(max_size=20), st.binary(max_size=20))
def test_list_envelope_is_the_plain_concatenation(docs: list[bytes], head: bytes, tail: bytes) -> None:
    """Pages are spliced from pieces in one join: the same bytes as the array joined, then enveloped."""
    with patch("customs_sim.china.envelope._request_id", return_value="0123456789abcdef0123456789abcdef"):
        spliced = ok_list_response(head, docs, tail).body
        plain = envelope_response("0000", MESSAGES["0000"], head + b"[" + b",".join(docs) + b"]" + tail).body
    assert spliced == plain
    assert orjson.loads(ok_list_response(b'{"list":', docs, b"}").body)["data"]["list"] == [
        orjson.loads(doc) for doc in docs
    ]
