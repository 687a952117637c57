"""Validation verdicts remembered per document text (strawberry's ``ValidationCache``, keyed cheaply).

strawberry's ``ValidationCache`` memoizes ``validate_document`` with ``functools.lru_cache``,
whose key is the parsed ``DocumentNode``: graphql-core's AST nodes are dataclasses, hashed by
walking the whole document, node by node, on every request (~100 µs for one manifest with
everything, more than parsing from the parser cache), before the first resolver may start. The
verdict is a pure function of the schema, the document and the rules; the document is a pure
function of its text (the parser cache hands out one ``DocumentNode`` per text), so the key here
is the text and the rules (a tuple of classes, cheap to hash). Without a text nothing is
remembered.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

__all__ = ["ValidationVerdicts", "VerdictCache"]

_Key = tuple[str, tuple[type[ASTValidationRule], ...]]


class ValidationVerdicts:
    """A bounded LRU of validation errors by (document text, rules), shared by all requests."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._maxsize = maxsize
        self._table: OrderedDict[_Key, list[GraphQLError]] = OrderedDict()

    def get(self, key: _Key) -> list[GraphQLError] | None:
        found = self._table.get(key)
        if found is not None:
            self._table.move_to_end(key)
        return found

    def put(self, key: _Key, errors: list[GraphQLError]) -> None:
        self._table[key] = errors
        if len(self._table) > self._maxsize:
            self._table.popitem(last=False)

    def __len__(self) -> int:
        return len(self._table)


class VerdictCache(SchemaExtension):
    """In place of strawberry's ``ValidationCache``: the same verdicts, looked up by text.

    The cached list is shared between requests, as strawberry's is: an extension that changes
    the verdict of one request assigns a new list (see ``OperationLimits.on_validate``).
    """

    def __init__(self, verdicts: ValidationVerdicts) -> None:
        super().__init__()
        self._verdicts = verdicts

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            schema = context.schema._schema
            rules = tuple(context.validation_rules)
            if context.query is None:
                context.pre_execution_errors = validate_document(schema, document, rules)
            else:
                key = (context.query, rules)
                errors = self._verdicts.get(key)
                if errors is None:
                    errors = validate_document(schema, document, rules)
                    self._verdicts.put(key, errors)
                context.pre_execution_errors = errors
        yield
