"""Persisted operations: which document a request runs, before anything parses it.

Two modes besides ``off``. ``allow_list`` (production front-ends): the configuration file maps
sha256 hashes to documents and only those documents run, whether the client sends the hash
(Apollo's ``extensions.persistedQuery.sha256Hash``) or the text; anything else is refused, so a
stolen front-end credential cannot run arbitrary queries. ``apq`` (development): Apollo's automatic
persisted queries; a client sends the hash alone, gets ``PersistedQueryNotFound`` the first time,
then sends the document with its hash, which is checked and remembered (a bounded LRU per process:
a replica that has not seen it answers ``PersistedQueryNotFound`` and the client sends it again).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from ..errors import InvalidInput, PersistedQueryNotAllowed, PersistedQueryNotFound
from .limits_config import PersistedSettings

__all__ = ["PersistedOperations", "document_hash", "load_allow_list"]

_SHA256 = re.compile(r"[0-9a-f]{64}")


def document_hash(document: str) -> str:
    """The hash Apollo's clients send: sha256 of the UTF-8 document, lowercase hex."""
    return hashlib.sha256(document.encode()).hexdigest()


def load_allow_list(path: Path) -> dict[str, str]:
    """``{"<sha256 hex>": "<document>"}`` from ``path``; every hash must be its document's.

    Raises:
        ValueError: not such an object, or a hash that does not match its document.
    """
    raw = orjson.loads(path.read_bytes())
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a JSON object of sha256 hash to document")
    documents: dict[str, str] = {}
    for key, document in raw.items():
        if not isinstance(document, str) or not _SHA256.fullmatch(key) or document_hash(document) != key:
            raise ValueError(f"{path}: entry {key[:16]!r}… is not the sha256 of its document")
        documents[key] = document
    return documents


def _requested_hash(extensions: Mapping[str, Any] | None) -> str | None:
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version", 1) != 1:
        raise InvalidInput("extensions.persistedQuery must be {version: 1, sha256Hash: <64 hex digits>}")
    value = persisted.get("sha256Hash")
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise InvalidInput("extensions.persistedQuery.sha256Hash must be 64 lowercase hex digits")
    return value


class PersistedOperations:
    """Resolves the document of a request according to the configured mode."""

    def __init__(self, settings: PersistedSettings, allow_list: Mapping[str, str] | None = None) -> None:
        self._mode = settings.mode
        self._allowed: Mapping[str, str] = allow_list or {}
        self._apq: OrderedDict[str, str] = OrderedDict()
        self._apq_max = settings.apq_max_entries

    @classmethod
    def from_settings(cls, settings: PersistedSettings) -> PersistedOperations:
        if settings.mode == "allow_list" and settings.allow_list_file is not None:
            return cls(settings, load_allow_list(settings.allow_list_file))
        return cls(settings)

    def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str | None:
        """The document to run: ``query`` itself, or the persisted one its hash names.

        Raises:
            PersistedQueryNotFound: APQ, a hash this process does not know (send the document).
            PersistedQueryNotAllowed: allow-list mode and not a listed document, or a hash sent
                while persisted operations are off.
            InvalidInput: a malformed ``persistedQuery`` or a hash that is not the document's.
        """
        requested = _requested_hash(extensions)
        if query is not None and requested is not None and document_hash(query) != requested:
            raise InvalidInput("provided sha256Hash does not match the query")
        if self._mode == "allow_list":
            key = requested or (document_hash(query) if query is not None else None)
            if key is None or key not in self._allowed:
                raise PersistedQueryNotAllowed("this gateway runs only its allow-listed operations")
            return self._allowed[key]
        if self._mode == "apq" and requested is not None:
            if query is not None:
                self._remember(requested, query)
                return query
            stored = self._apq.get(requested)
            if stored is None:
                raise PersistedQueryNotFound()
            self._apq.move_to_end(requested)
            return stored
        if requested is not None and query is None:
            raise PersistedQueryNotAllowed("persisted queries are not enabled on this gateway: send the query")
        return query

    def _remember(self, key: str, query: str) -> None:
        self._apq[key] = query
        self._apq.move_to_end(key)
        while len(self._apq) > self._apq_max:
            self._apq.popitem(last=False)
