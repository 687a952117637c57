"""An exact, pickle-free codec for the domain records: dataclass → compact JSON array → dataclass.

Why domain records and not the wire payload: once upstream answers are cached, mapping them (XML
parsing on the Kazakh side, plate/tariff/money normalisation on both) would be paid on *every*
warm read; decoding this form is a fraction of it (``benchmarks/cache.py`` prints both). Why not
pickle: a Redis shared by replicas is writable by whoever reaches it, and unpickling runs code.

The form is positional (one JSON array per dataclass, fields in declaration order), so it holds no
field names and stays small; a change of a domain dataclass changes the form, which is why the
cache keys carry ``key_version`` (bump it when ``domain.py`` changes shape). Exactness:

* ``Decimal`` as its string (``Decimal("1.500")`` keeps its exponent);
* aware ``datetime`` as ISO-8601 with its own offset (``+08:00`` stays ``+08:00``, not UTC);
  ``date`` and ``time`` as ISO-8601;
* enums by value; tuples, lists and ``dict[str, X]`` element by element;
* ``None`` as ``null`` (only where the field type allows it).

Decoders are compiled once per type from the dataclass annotations; a payload that does not fit
its type raises :class:`CodecError` (the caller treats the entry as a miss, never serves it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Generic, TypeVar

import orjson

__all__ = ["Codec", "CodecError", "codec_for"]

T = TypeVar("T")
_Decode = Callable[[Any], Any]
_Encode = Callable[[Any], Any]


class CodecError(ValueError):
    """Cached bytes that do not decode to the expected type."""


def _decimal(raw: Any) -> Decimal:
    if not isinstance(raw, str):
        raise CodecError(f"expected a decimal string, got {type(raw).__name__}")
    try:
        return Decimal(raw)
    except InvalidOperation as exc:
        raise CodecError(f"not a decimal: {raw[:32]!r}") from exc


def _iso(parse: Callable[[str], T]) -> Callable[[Any], T]:
    def decode(raw: Any) -> T:
        if not isinstance(raw, str):
            raise CodecError(f"expected an ISO-8601 string, got {type(raw).__name__}")
        try:
            return parse(raw)
        except ValueError as exc:
            raise CodecError(f"not ISO-8601: {raw[:40]!r}") from exc

    return decode


def _scalar(kind: type) -> _Decode:
    def decode(raw: Any) -> Any:
        # bool is an int in Python: an int field must not accept true/false, nor the reverse.
        if type(raw) is not kind:
            raise CodecError(f"expected {kind.__name__}, got {type(raw).__name__}")
        return raw

    return decode


def _identity(value: Any) -> Any:
    return value


def _int64(value: Any) -> Any:
    # orjson refuses integers past 64 bits; say so as a codec error (the value is not cached).
    if not -(2**63) <= value < 2**64:
        raise CodecError("integer out of the 64-bit range")
    return value


class _Compiler:
    """Builds (encode, decode) pairs per annotation, caching those of dataclasses."""

    def __init__(self) -> None:
        self._classes: dict[type, tuple[_Encode, _Decode]] = {}

    def compile(self, annotation: Any) -> tuple[_Encode, _Decode]:
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin in (typing.Union, types.UnionType):
            inner = [arg for arg in args if arg is not type(None)]
            if len(inner) != 1 or len(args) != 2:
                raise TypeError(f"only optional unions are supported, not {annotation!r}")
            encode_one, decode_one = self.compile(inner[0])
            return (
                lambda value: None if value is None else encode_one(value),
                lambda raw: None if raw is None else decode_one(raw),
            )
        if origin in (tuple, list):
            if origin is tuple and (len(args) != 2 or args[1] is not Ellipsis):
                raise TypeError(f"only homogeneous tuples are supported, not {annotation!r}")
            encode_item, decode_item = self.compile(args[0])
            container = tuple if origin is tuple else list

            def decode_sequence(raw: Any) -> Any:
                if not isinstance(raw, list):
                    raise CodecError(f"expected an array, got {type(raw).__name__}")
                return container(decode_item(item) for item in raw)

            return (lambda value: [encode_item(item) for item in value], decode_sequence)
        if origin is dict:
            if args[0] is not str:
                raise TypeError(f"only dict[str, X] is supported, not {annotation!r}")
            encode_value, decode_value = self.compile(args[1])

            def decode_mapping(raw: Any) -> Any:
                if not isinstance(raw, dict):
                    raise CodecError(f"expected an object, got {type(raw).__name__}")
                return {key: decode_value(value) for key, value in raw.items()}

            return (lambda value: {key: encode_value(item) for key, item in value.items()}, decode_mapping)
        if not isinstance(annotation, type):
            raise TypeError(f"unsupported annotation {annotation!r}")
        if dataclasses.is_dataclass(annotation):
            return self._dataclass(annotation)
        if issubclass(annotation, Enum):
            enum = annotation

            def decode_enum(raw: Any) -> Any:
                try:
                    return enum(raw)
                except ValueError as exc:
                    raise CodecError(f"not a {enum.__name__}: {str(raw)[:32]!r}") from exc

            return (lambda value: value.value, decode_enum)
        if annotation is Decimal:
            return (str, _decimal)
        if annotation is dt.datetime:
            return (lambda value: value.isoformat(), _iso(dt.datetime.fromisoformat))
        if annotation is dt.date:
            return (lambda value: value.isoformat(), _iso(dt.date.fromisoformat))
        if annotation is dt.time:
            return (lambda value: value.isoformat(), _iso(dt.time.fromisoformat))
        if annotation is int:
            return (_int64, _scalar(int))
        if annotation in (str, bool):
            return (_identity, _scalar(annotation))
        raise TypeError(f"unsupported type {annotation!r}")

    def _dataclass(self, cls: type) -> tuple[_Encode, _Decode]:
        if cls in self._classes:
            return self._classes[cls]
        # A placeholder first, so a recursive type would find itself (none of ours is recursive).
        pending: list[tuple[_Encode, _Decode]] = []
        self._classes[cls] = (lambda value: pending[0][0](value), lambda raw: pending[0][1](raw))
        hints = typing.get_type_hints(cls)
        fields = [field.name for field in dataclasses.fields(cls)]
        compiled = [self.compile(hints[name]) for name in fields]
        encoders = [encode for encode, _ in compiled]
        decoders = [decode for _, decode in compiled]
        getters = [_getter(name) for name in fields]
        count = len(fields)
        name = cls.__name__

        def encode(value: Any) -> list[Any]:
            return [enc(get(value)) for enc, get in zip(encoders, getters, strict=True)]

        def decode(raw: Any) -> Any:
            if not isinstance(raw, list) or len(raw) != count:
                raise CodecError(f"expected {count} fields of {name}")
            return cls(*[dec(item) for dec, item in zip(decoders, raw, strict=True)])

        pending.append((encode, decode))
        self._classes[cls] = (encode, decode)
        return encode, decode


def _getter(name: str) -> Callable[[Any], Any]:
    def get(value: Any) -> Any:
        return getattr(value, name)

    return get


class Codec(Generic[T]):
    """Bytes for one type (a domain dataclass, or a list/dict/optional of them) and back."""

    def __init__(self, annotation: Any, compiler: _Compiler | None = None) -> None:
        self._encode, self._decode = (compiler or _Compiler()).compile(annotation)

    def encode(self, value: T) -> bytes:
        return orjson.dumps(self._encode(value))

    def decode(self, payload: bytes) -> T:
        try:
            raw = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise CodecError("not JSON") from exc
        try:
            value: T = self._decode(raw)
        except (TypeError, KeyError) as exc:  # a constructor refusing what the payload held
            raise CodecError(str(exc)) from exc
        return value


_SHARED = _Compiler()


def codec_for(annotation: Any) -> Codec[Any]:
    """A codec for ``annotation``, sharing compiled dataclass decoders with the other codecs."""
    return Codec(annotation, _SHARED)
