"""The audit log: one line per GraphQL operation (and per refused request) on ``customs_gateway.audit``.

Each line says who asked (client, role, carrier, how they authenticated), what (operation name,
SHA-256 of the document, the variables with personal data redacted), which authorities the
gateway called for it, how it ended (outcome, error codes) and how long it took. Fields go in
``extra``, so :class:`~customs_gateway.observability.JsonFormatter` writes them as JSON keys.

Personal data in variables: values under names that carry it (plates, passport numbers, names,
VINs…) are replaced, at any depth; long strings are cut and the whole is bounded, so a hostile
variables object cannot flood the log.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from ..errors import Unauthenticated
from ..observability.request_id import current_request_id
from .principal import Principal

__all__ = [
    "AUDIT_LOGGER",
    "PERSONAL",
    "AuditLog",
    "UpstreamRecorder",
    "authorities_called",
    "document_hash",
    "redact_variables",
    "track_authorities",
]

AUDIT_LOGGER = "customs_gateway.audit"
PERSONAL = "[PERSONAL]"
_PERSONAL_NAME = re.compile(r"plate|passport|driver|name|vin|phone|email|person|birth|address", re.IGNORECASE)
_MAX_STRING = 256
_MAX_ITEMS = 50
_MAX_DEPTH = 6

_called: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("customs_gateway_authorities", default=None)


def document_hash(document: str | None) -> str | None:
    return None if document is None else hashlib.sha256(document.encode("utf-8")).hexdigest()


def redact_variables(value: Any, depth: int = 0) -> Any:
    """``value`` with personal data replaced by :data:`PERSONAL` and bounded in size."""
    if depth > _MAX_DEPTH:
        return "[TRUNCATED]"
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for i, (key, item) in enumerate(value.items()):
            if i >= _MAX_ITEMS:
                out["…"] = f"{len(value) - _MAX_ITEMS} more"
                break
            name = str(key)[:_MAX_STRING]
            out[name] = PERSONAL if _PERSONAL_NAME.search(name) else redact_variables(item, depth + 1)
        return out
    if isinstance(value, list | tuple):
        items = [redact_variables(item, depth + 1) for item in value[:_MAX_ITEMS]]
        return items + ([f"… {len(value) - _MAX_ITEMS} more"] if len(value) > _MAX_ITEMS else [])
    if isinstance(value, str):
        return value if len(value) <= _MAX_STRING else value[:_MAX_STRING] + "…"
    if value is None or isinstance(value, bool | int | float):
        return value
    return repr(value)[:_MAX_STRING]


@contextmanager
def track_authorities() -> Iterator[set[str]]:
    """Collect the authorities called while the block runs (in this task and the tasks it starts:
    they share the set through the copied context)."""
    called: set[str] = set()
    token = _called.set(called)
    try:
        yield called
    finally:
        _called.reset(token)


def authorities_called() -> set[str] | None:
    return _called.get()


@dataclass(frozen=True, slots=True)
class UpstreamRecorder:
    """An httpx request hook: notes ``authority`` as called by the current operation, if any.

    A dataclass so two recorders of one authority compare equal and a client gets it once."""

    authority: str

    async def __call__(self, request: httpx.Request) -> None:
        called = _called.get()
        if called is not None:
            called.add(self.authority)

    def install(self, client: httpx.AsyncClient) -> None:
        hooks = client.event_hooks
        if self not in hooks["request"]:
            hooks["request"] = [*hooks["request"], self]
            client.event_hooks = hooks


class AuditLog:
    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or logging.getLogger(AUDIT_LOGGER)

    def operation(
        self,
        principal: Principal,
        *,
        operation_name: str | None,
        document: str | None,
        variables: Mapping[str, Any] | None,
        authorities: set[str],
        error_codes: list[str],
        has_data: bool,
        duration_s: float,
    ) -> None:
        outcome = "ok" if not error_codes else ("partial" if has_data else "error")
        self._log.info(
            "graphql operation",
            extra={
                "audit": "operation",
                "request_id": current_request_id(),
                "client": principal.client_id,
                "role": principal.role,
                "carrier_id": principal.carrier_id,
                "auth_method": principal.method,
                "operation": None if operation_name is None else operation_name[:_MAX_STRING],
                "document_sha256": document_hash(document),
                "variables": redact_variables(dict(variables or {})),
                "authorities": sorted(authorities),
                "outcome": outcome,
                "error_codes": sorted(set(error_codes)),
                "duration_ms": round(duration_s * 1000, 3),
            },
        )

    def refused(self, path: str, error: Unauthenticated) -> None:
        self._log.warning(
            "request refused",
            extra={
                "audit": "refused",
                "request_id": current_request_id(),
                "path": path[:_MAX_STRING],
                "outcome": "unauthenticated",
                "error_codes": [error.code],
                "reason": error.message,
            },
        )
