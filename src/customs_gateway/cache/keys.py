"""Cache keys: ``<namespace>:v<version>:<authority>:<resource>:<part>``, injective by construction.

Ids come from clients (a GraphQL argument) and list parameters from anywhere, so a key must not be
something a caller can steer into another entity's key. Each segment is percent-encoded with *no*
safe characters besides ``A-Z a-z 0-9 _ . - ~``, so no segment contains ``:`` and the join is
reversible; the last segment carries a tag that cannot come out of the encoder (``=`` is always
encoded), so an id can never look like a list query:

* ``i=<percent-encoded id>``: an id (UTF-8, lone surrogates passed through rather than refused);
* ``h=<sha256 hex>``: an id whose encoding would be over :data:`MAX_ID_SEGMENT` characters;
* ``p=<sha256 hex>``: a :class:`ListQuery`, the hash of its canonical JSON (sorted keys);
* optionally ``;a=<percent-encoded audience>`` after either (``;`` and ``=`` never come out of the
  encoder), for a value that differs by who asks.

Hashing is only used where a readable key would be too long; SHA-256 makes a collision a
non-event in practice.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, TypeAlias
from urllib.parse import quote, unquote

import orjson

__all__ = ["MAX_ID_SEGMENT", "EntityKey", "KeyBuilder", "ListQuery", "Resource"]

MAX_ID_SEGMENT: Final = 200


def _segment(text: str) -> str:
    return quote(text, safe="", encoding="utf-8", errors="surrogatepass")


@dataclass(frozen=True, slots=True)
class Resource:
    """A kind of upstream entity of one authority, e.g. ``Resource("GACC", "manifest")``.

    ``name`` is also the metrics label, so it is a small fixed vocabulary chosen in code, never
    data from a request.
    """

    authority: str
    name: str

    def __post_init__(self) -> None:
        if not self.authority or not self.name:
            raise ValueError("a resource needs an authority and a name")


def _reject(value: object) -> object:
    # Only JSON-native parameters: a datetime and its ISO string would otherwise share a key
    # while meaning (to the caller) two different things; the caller formats them explicitly.
    raise TypeError(f"list parameters must be JSON-native (str, int, float, bool, None, list, dict), got {type(value)}")


def _reject_non_finite(value: object) -> None:
    # orjson writes NaN and infinities as null: they would share a key with None.
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("list parameters cannot be NaN or infinite")
    if isinstance(value, Mapping):
        for item in value.values():
            _reject_non_finite(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _reject_non_finite(item)


@dataclass(frozen=True, slots=True)
class ListQuery:
    """The parameters of a list request, reduced to a digest: equal parameters, equal key."""

    digest: str

    @classmethod
    def of(cls, params: Mapping[str, object]) -> ListQuery:
        _reject_non_finite(params)
        canonical = orjson.dumps(
            params,
            default=_reject,
            option=orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS,
        )
        return cls(hashlib.sha256(canonical).hexdigest())


EntityKey: TypeAlias = str | ListQuery
"""What the sources key an entity by: its id, or the parameters of the list it is a page of."""


class KeyBuilder:
    """Builds backend keys and reads the resource back out of one (for eviction metrics)."""

    def __init__(self, namespace: str, version: int) -> None:
        self._prefix = f"{_segment(namespace)}:v{version}:"

    @property
    def prefix(self) -> str:
        return self._prefix

    def build(self, resource: Resource, key: EntityKey, *, audience: str | None = None) -> str:
        """The backend key of ``key``; with ``audience`` (e.g. a principal's audience key), one
        key per audience, for values that differ by who asks. The gateway's upstream entities do
        not (field rules apply after the cache, see docs/caching.md), so they pass none."""
        suffix = "" if audience is None else f";a={_segment(audience)}"
        return self._build(resource, key) + suffix

    def _build(self, resource: Resource, key: EntityKey) -> str:
        if isinstance(key, ListQuery):
            part = f"p={key.digest}"
        elif isinstance(key, str):
            encoded = _segment(key)
            if len(encoded) <= MAX_ID_SEGMENT:
                part = f"i={encoded}"
            else:
                part = "h=" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        else:  # an int id would silently share a key with its str; make the caller choose
            raise TypeError(f"cache keys are str ids or ListQuery, not {type(key).__name__}")
        return f"{self._prefix}{_segment(resource.authority)}:{_segment(resource.name)}:{part}"

    def resource_of(self, backend_key: str) -> str | None:
        """The resource name of a key this builder made, or ``None`` for anything else."""
        if not backend_key.startswith(self._prefix):
            return None
        parts = backend_key[len(self._prefix) :].split(":")
        return unquote(parts[1]) if len(parts) == 3 else None
