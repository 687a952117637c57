"""Operation limits as Strawberry extensions: everything here runs before execution, so an operation
over a limit makes no upstream call.

- tokens: the parser's ``max_tokens`` (the shared ParserCache keys its entries by the parse options,
  so the cache stays effective);
- depth and aliases: a validation rule built once per schema, so the shared validation cache keeps
  its verdict per document text (these figures do not depend on who asks or on variables);
- page size and cost: per request (they depend on the variables and on the client's role), right
  after the cached validation passed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    SKIP,
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSyntaxError,
    Lexer,
    OperationType,
    Source,
    TokenKind,
    ValidationRule,
    get_operation_ast,
)
from graphql.validation import ASTValidationRule, MaxIntrospectionDepthRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import ParserCache, SchemaExtension

from ..errors import LimitExceeded, PageSizeExceeded
from ..security.complexity import CostModel, operation_shapes
from ..security.config import SecuritySettings
from ..security.cost_cache import CostCache
from ..security.limits_config import LimitSettings
from ..security.principal import principal_of
from .errors import graphql_error

__all__ = [
    "BudgetOf",
    "NoServiceSdlRule",
    "OperationLimits",
    "TokenLimitedParserCache",
    "cost_model",
    "limit_rules",
    "role_budget",
]

#: The role of the client of an execution context's request and that role's cost budget.
BudgetOf = Callable[[Any], tuple[str, int]]


def cost_model(settings: LimitSettings) -> CostModel:
    return CostModel(
        weights=settings.upstream_weights,
        list_sizes=settings.list_sizes,
        default_list_size=settings.default_list_size,
    )


def _shape_rule(max_depth: int, max_aliases: int) -> type[ASTValidationRule]:
    class OperationShapeRule(ValidationRule):
        """Refuses operations deeper than ``max_depth`` or with more than ``max_aliases`` aliases."""

        def enter_document(self, node: DocumentNode, *_args: Any) -> object:
            for shape in operation_shapes(node):
                if shape.depth > max_depth:
                    self.report_error(
                        graphql_error(
                            LimitExceeded(
                                "depth",
                                shape.depth,
                                max_depth,
                                f"query depth {shape.depth} exceeds the limit {max_depth}",
                            )
                        )
                    )
                if shape.aliases > max_aliases:
                    message = f"query has {shape.aliases} aliases, more than the limit {max_aliases}"
                    self.report_error(graphql_error(LimitExceeded("aliases", shape.aliases, max_aliases, message)))
            return SKIP

    return OperationShapeRule


class NoServiceSdlRule(ValidationRule):
    """With introspection off, the federation field ``_service`` (the whole SDL) is refused too:
    otherwise it would hand out what turning introspection off withholds."""

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        parent = self.context.get_parent_type()
        if node.name.value == "_service" and parent is not None and parent.name == "Query":
            self.report_error(GraphQLError("GraphQL introspection has been disabled, and so has _service.", node))


def limit_rules(settings: LimitSettings, *, introspection: bool) -> tuple[type[ASTValidationRule], ...]:
    """The validation rules of the limits; build them once per schema (the validation cache is keyed
    by the rule classes)."""
    rules: list[type[ASTValidationRule]] = [_shape_rule(settings.max_depth, settings.max_aliases)]
    if introspection:
        rules.append(MaxIntrospectionDepthRule)
    else:
        rules += [NoSchemaIntrospectionCustomRule, NoServiceSdlRule]
    return tuple(rules)


def role_budget(security: SecuritySettings) -> BudgetOf:
    """The budget of the client of a request: its principal's role's ``cost_budget`` (an anonymous
    client's is the configured anonymous role's; an unknown role gets the smallest budget)."""

    def budget_of(context: Any) -> tuple[str, int]:
        principal = principal_of(getattr(context, "request", None))
        role = principal.role
        if principal.method == "anonymous" and security.anonymous_role is not None:
            role = security.anonymous_role.value
        return role, security.role(role).cost_budget

    return budget_of


def _count_tokens(query: str, cap: int) -> int:
    """Tokens (comments included, as the parser counts them) up to ``cap``; 0 when it cannot lex."""
    lexer = Lexer(Source(query))
    count = 0
    try:
        while count < cap and lexer.advance().kind is not TokenKind.EOF:
            count += 1
    except GraphQLSyntaxError:
        return 0
    return count


class TokenLimitedParserCache(ParserCache):
    """strawberry's ParserCache (the same shared LRU of parsed documents) with the parser's token
    limit, and an error that says which limit and the figures when a document is over it."""

    def __init__(self, maxsize: int, max_tokens: int) -> None:
        super().__init__(maxsize=maxsize)
        self._max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self._max_tokens
        try:
            context.graphql_document = self.cached_parse_document(context.query, **context.parse_options)
        except GraphQLSyntaxError as error:
            if "tokens. Parsing aborted" not in error.message:
                raise
            maximum = self._max_tokens
            actual = _count_tokens(context.query or "", 100 * maximum) or maximum + 1
            message = f"query has {actual} tokens, more than the limit {maximum}"
            raise graphql_error(LimitExceeded("tokens", actual, maximum, message)) from None
        yield


class OperationLimits(SchemaExtension):
    """Depth, aliases, page size and cost. List it after the validation cache (``VerdictCache``): its
    ``on_validate`` reads the cached verdict and only then estimates the cost."""

    def __init__(
        self,
        settings: LimitSettings,
        rules: tuple[type[ASTValidationRule], ...],
        budget_of: BudgetOf,
        costs: CostCache,
    ) -> None:
        super().__init__()
        self._settings = settings
        self._rules = rules
        self._budget_of = budget_of
        self._costs = costs

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, *self._rules)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if not context.pre_execution_errors and context.graphql_document is not None:
            error = self._check_cost(context.graphql_document, context.operation_name, context.variables)
            if error is not None:
                context.pre_execution_errors = [graphql_error(error)]  # a new list: the cached one is shared
        yield

    def _check_cost(
        self, document: DocumentNode, operation_name: str | None, variables: dict[str, Any] | None
    ) -> LimitExceeded | None:
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return None  # execution refuses it before any resolver runs
        context = self.execution_context
        estimate = self._costs.estimate(context.schema._schema, document, operation, variables, context.query)
        max_page = self._settings.max_page_size
        if estimate.largest_page > max_page:
            field = estimate.page_field or "a field"
            message = f"first: {estimate.largest_page} on {field} exceeds the page size limit {max_page}"
            return PageSizeExceeded("pageSize", estimate.largest_page, max_page, message)
        role, budget = self._budget_of(context.context)
        if estimate.cost > budget:
            message = f"query cost {estimate.cost} exceeds the budget {budget} for role {role}"
            return LimitExceeded("cost", estimate.cost, budget, message)
        return None
