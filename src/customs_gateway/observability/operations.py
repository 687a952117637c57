"""One GraphQL operation observed: its deadline, its metrics and its one log line.

The schema layer (a Strawberry extension's ``on_operation``, wired by the lead) wraps each
operation in :func:`observe_operation` and reports the codes of the errors in the result; the
operation's upstream calls run under its deadline and inherit its request id from the context.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..resilience import Clock, operation_deadline
from .metrics import GatewayMetrics, operation_label

__all__ = ["OperationRecord", "observe_operation"]

_log = logging.getLogger("customs_gateway.graphql")


@dataclass
class OperationRecord:
    """What the GraphQL layer tells about the operation while it runs."""

    name: str | None
    error_codes: list[str] = field(default_factory=list)

    def add_error(self, code: str) -> None:
        self.error_codes.append(code)


@contextmanager
def observe_operation(
    name: str | None,
    *,
    metrics: GatewayMetrics | None,
    deadline_s: float,
    clock: Clock = time.monotonic,
) -> Iterator[OperationRecord]:
    """Run one operation under its deadline; on exit record it in metrics and log one line.

    The block may set ``record.name`` once the operation's name is known (after parsing).

    An exception escaping the block counts as an ``INTERNAL_SERVER_ERROR`` (GraphQL frameworks
    normally turn errors into the result, so this is the unexpected case) and is re-raised.
    """
    record = OperationRecord(name)
    started = clock()
    try:
        with operation_deadline(deadline_s, clock=clock):
            yield record
    except Exception:
        record.add_error("INTERNAL_SERVER_ERROR")
        raise
    finally:
        duration = max(0.0, clock() - started)
        if metrics is not None:
            metrics.graphql_operation(record.name, duration, record.error_codes)
        _log.log(
            logging.WARNING if record.error_codes else logging.INFO,
            "graphql operation",
            extra={
                "operation": operation_label(record.name),
                "outcome": "error" if record.error_codes else "ok",
                "error_codes": sorted(set(record.error_codes)),
                "duration_ms": round(duration * 1000, 3),
            },
        )
