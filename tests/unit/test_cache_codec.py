"""Keys and the stored envelope: injective keys, exact round trips, corrupt bytes refused."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from customs_gateway.cache import NOT_FOUND, CorruptEntry, Entry, KeyBuilder, ListQuery, Resource
from customs_gateway.cache.envelope import HEADER, decode, encode
from customs_gateway.cache.keys import MAX_ID_SEGMENT

KEYS = KeyBuilder("cgw", 3)
RESOURCES = st.builds(Resource, st.sampled_from(["GACC", "KGD", "a:b"]), st.sampled_from(["manifest", "rate", "x/y"]))
IDS = st.text(st.characters(codec=None), max_size=120)  # any code point, surrogates included
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@given(RESOURCES, IDS, RESOURCES, IDS)
def test_distinct_resource_and_id_pairs_get_distinct_keys(r1: Resource, id1: str, r2: Resource, id2: str) -> None:
    assume((r1, id1) != (r2, id2))
    assert KEYS.build(r1, id1) != KEYS.build(r2, id2)


@given(RESOURCES, IDS)
def test_a_key_has_five_printable_segments_and_names_its_resource(resource: Resource, entity_id: str) -> None:
    key = KEYS.build(resource, entity_id)

    assert key.startswith("cgw:v3:") and key.count(":") == 4
    assert key.isascii() and key.isprintable() and " " not in key
    assert KEYS.resource_of(key) == resource.name


@settings(deadline=None)  # four arbitrary texts percent-encoded: slow on a loaded machine, not wrong
@given(RESOURCES, IDS, st.none() | IDS, IDS, st.none() | IDS)
def test_an_audience_gives_a_key_of_its_own(
    resource: Resource, id1: str, audience1: str | None, id2: str, audience2: str | None
) -> None:
    assume((id1, audience1) != (id2, audience2))
    first = KEYS.build(resource, id1, audience=audience1)
    assert first != KEYS.build(resource, id2, audience=audience2)
    assert KEYS.resource_of(first) == resource.name
    assert (audience1 is None) == (first == KEYS.build(resource, id1))


def test_long_ids_are_hashed_and_tagged_apart_from_short_ones() -> None:
    resource = Resource("GACC", "manifest")
    long_id = "x" * (MAX_ID_SEGMENT + 1)

    key = KEYS.build(resource, long_id)

    assert key.rsplit(":", 1)[1].startswith("h=") and len(key) < 100
    assert key != KEYS.build(resource, "x" * MAX_ID_SEGMENT)
    assert KEYS.build(resource, "h=" + key.rsplit("h=", 1)[1]) != key, "'=' is escaped in ids"


def test_list_queries_and_ids_never_share_a_key() -> None:
    resource = Resource("GACC", "manifests")
    query = ListQuery.of({"status": "released"})

    assert KEYS.build(resource, query) != KEYS.build(resource, f"p={query.digest}")
    assert KEYS.build(resource, query).endswith(f":p={query.digest}")


@settings(max_examples=50)
@given(st.dictionaries(st.text(max_size=8), JSON, max_size=5), st.randoms())
def test_list_query_ignores_parameter_order(params: dict[str, object], random: object) -> None:
    items = list(params.items())
    random.shuffle(items)  # type: ignore[attr-defined]
    assert ListQuery.of(dict(items)) == ListQuery.of(params)


@settings(max_examples=50)
@given(st.dictionaries(st.text(max_size=8), JSON, max_size=4), st.dictionaries(st.text(max_size=8), JSON, max_size=4))
def test_list_queries_differ_when_parameters_do(a: dict[str, object], b: dict[str, object]) -> None:
    assume(a != b)
    assert ListQuery.of(a) != ListQuery.of(b)


def test_list_parameters_must_be_json_native() -> None:
    with pytest.raises(TypeError):
        ListQuery.of({"since": dt.datetime(2025, 3, 1, tzinfo=dt.UTC)})
    with pytest.raises(TypeError):
        ListQuery.of({"ids": {"a", "b"}})
    with pytest.raises(ValueError):
        ListQuery.of({"min": [1.0, float("nan")]})


def test_keys_must_be_str_or_list_query() -> None:
    with pytest.raises(TypeError):
        KEYS.build(Resource("GACC", "manifest"), 42)  # type: ignore[arg-type]


def test_resource_of_ignores_foreign_keys() -> None:
    assert KeyBuilder("other", 3).resource_of(KEYS.build(Resource("GACC", "m"), "1")) is None
    assert KEYS.resource_of("cgw:v3:garbage") is None


INSTANTS = st.integers(0, 2**52).map(lambda ms: ms / 1000)


@given(st.binary(max_size=4096) | st.just(NOT_FOUND), INSTANTS, INSTANTS)
def test_envelope_round_trips(value: bytes, fresh_until: float, stale_until: float) -> None:
    entry = Entry(value, fresh_until, stale_until)
    assert decode(encode(entry)) == entry


@given(st.binary(max_size=256), st.data())
def test_a_truncated_or_extended_envelope_is_corrupt(value: bytes, data: st.DataObject) -> None:
    raw = encode(Entry(value, 1.0, 2.0))
    cut = data.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(CorruptEntry):
        decode(raw[:cut])
    with pytest.raises(CorruptEntry):
        decode(raw + b"\x00")


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x80\x04\x95garbage-that-is-a-pickle-prefix....",
        HEADER.pack(b"XX", 1, 0, 0, 0, 0),
        HEADER.pack(b"CG", 2, 0, 0, 0, 0),
        HEADER.pack(b"CG", 1, 7, 0, 0, 0),
        HEADER.pack(b"CG", 1, 1, 0, 0, 1) + b"x",  # a not-found with a payload
    ],
)
def test_foreign_bytes_are_corrupt(raw: bytes) -> None:
    with pytest.raises(CorruptEntry):
        decode(raw)


def test_only_bytes_are_encoded() -> None:
    with pytest.raises(TypeError):
        encode(Entry("text", 1.0, 2.0))  # type: ignore[arg-type]
