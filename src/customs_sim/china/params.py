"""Validation of request parameters; every failure is an ``E1001`` naming the parameter.

A repeated or empty parameter is an error rather than silently taking one of the values: a
client that sends ``portCode`` twice has a bug the simulator should surface, not hide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson
from starlette.datastructures import QueryParams

from customs_sim.china.envelope import ApiError
from customs_sim.china.render import parse_cn_time, plate_key

__all__ = [
    "BATCH_LIMIT",
    "MAX_PAGE_SIZE",
    "BatchKeys",
    "Paging",
    "batch_keys",
    "cn_time_param",
    "ie_flag",
    "paging",
    "plate_params",
    "port_code",
    "text_param",
]

BATCH_LIMIT = 50
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
_MAX_PAGE_NUM = 10_000_000  # keeps OFFSET far inside SQLite's 64-bit range
_PORT_CODE = re.compile(r"[0-9]{4}")
_POSITIVE = re.compile(r"[1-9][0-9]{0,8}")
_MAX_KEY_LENGTH = 64  # no GACC id is longer; anything longer is garbage, not a key


def text_param(params: QueryParams, name: str) -> str | None:
    values = params.getlist(name)
    if not values:
        return None
    if len(values) > 1 or not values[0]:
        raise ApiError("E1001", name)
    return values[0]


def port_code(params: QueryParams) -> str | None:
    value = text_param(params, "portCode")
    if value is not None and not _PORT_CODE.fullmatch(value):
        raise ApiError("E1001", "portCode")
    return value


def ie_flag(params: QueryParams) -> str | None:
    value = text_param(params, "ieFlag")
    if value is not None and value not in ("I", "E"):
        raise ApiError("E1001", "ieFlag")
    return value


def cn_time_param(params: QueryParams, name: str) -> int | None:
    """A ``yyyyMMddHHmmss`` Beijing time as UTC epoch seconds."""
    value = text_param(params, name)
    if value is None:
        return None
    try:
        return parse_cn_time(value)
    except ValueError as exc:
        raise ApiError("E1001", name) from exc


def plate_params(params: QueryParams) -> tuple[str, ...]:
    """The plate keys of ``plateNo``, which may be repeated (up to 50 plates, else E1002)."""
    values = params.getlist("plateNo")
    if len(values) > BATCH_LIMIT:
        raise ApiError("E1002")
    keys = [plate_key(value) for value in values]
    if not all(keys):  # empty, or nothing but dots and spaces
        raise ApiError("E1001", "plateNo")
    return tuple(dict.fromkeys(keys))


@dataclass(frozen=True, slots=True)
class Paging:
    page_num: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page_num - 1) * self.page_size


def _positive(params: QueryParams, name: str, default: int, maximum: int) -> int:
    value = text_param(params, name)
    if value is None:
        return default
    if not _POSITIVE.fullmatch(value) or int(value) > maximum:
        raise ApiError("E1001", name)
    return int(value)


def paging(params: QueryParams) -> Paging:
    return Paging(
        page_num=_positive(params, "pageNum", 1, _MAX_PAGE_NUM),
        page_size=_positive(params, "pageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
    )


@dataclass(frozen=True, slots=True)
class BatchKeys:
    """The keys of a batch query: batch numbers, or common manifest numbers."""

    kind: str  # "batchNos" or "commonManifestNos"
    keys: list[str]


def batch_keys(body: bytes, kinds: tuple[str, ...] = ("batchNos",)) -> BatchKeys:
    """Parse ``{"<kind>": [...]}`` with exactly one of ``kinds``: 1–50 non-empty strings."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError("E1001", "body") from exc
    if not isinstance(payload, dict):
        raise ApiError("E1001", "body")
    present = [kind for kind in kinds if kind in payload]
    if len(present) != 1:
        raise ApiError("E1001", "|".join(kinds))
    kind = present[0]
    keys = payload[kind]
    if not isinstance(keys, list) or not all(
        isinstance(key, str) and 0 < len(key) <= _MAX_KEY_LENGTH for key in keys
    ):
        raise ApiError("E1001", kind)
    if not 1 <= len(keys) <= BATCH_LIMIT:
        raise ApiError("E1002")
    return BatchKeys(kind, keys)
