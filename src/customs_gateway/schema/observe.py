"""The operation observer: each GraphQL operation under its deadline, counted, timed and logged.

A schema extension rather than view code so it wraps exactly what the operation does (parse,
validate, execute) and sees the result's errors before they are masked: it is listed *last*
among the schema's extensions, so its ``on_operation`` is the innermost and ends first, while
errors still carry their original exception. The deadline it sets is a contextvar
(:func:`~customs_gateway.resilience.operation_deadline`), which every resolver, DataLoader
batch and upstream call of the operation inherits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from strawberry.extensions import SchemaExtension

from ..observability import GatewayMetrics, observe_operation
from .errors import error_code

__all__ = ["OperationObserver", "operation_observer"]


class OperationObserver(SchemaExtension):
    def __init__(self, *, metrics: GatewayMetrics | None, deadline_s: float) -> None:
        self._metrics = metrics
        self._deadline_s = deadline_s

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        with observe_operation(context.operation_name, metrics=self._metrics, deadline_s=self._deadline_s) as record:
            yield
            # Known only once the document is parsed (an anonymous document may name its one operation).
            record.name = context.operation_name
            for error in getattr(context.result, "errors", None) or ():
                record.add_error(error_code(error))


def operation_observer(metrics: GatewayMetrics | None, deadline_s: float) -> Callable[[], OperationObserver]:
    """The factory ``build_schema`` takes: one observer per operation."""
    return lambda: OperationObserver(metrics=metrics, deadline_s=deadline_s)
