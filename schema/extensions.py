"""Schema extensions: guards against abusive documents, and coded or masked errors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import cast

from graphql import (
    ASTValidationRule,
    GraphQLError,
    GraphQLSyntaxError,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from schema.cost import query_cost
from schema.errors import QueryTooComplexError, document_error_code, refusal_for, refused

log = logging.getLogger("roster.errors")

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 30
#: A page of 500 users with every field, groups included, costs about 15,000; a batch
#: with a page of 500 rows and their errors about 10,500. See schema/cost.py.
MAX_QUERY_COST = 50_000
SPLIT = "ask for less: smaller pages ('first'), fewer fields, or several queries."


class CodedErrors(MaskErrors):
    """Every error a client sees carries an `extensions.code`: an expected failure raised
    in a resolver (a domain error, a bad token, a lost lease) becomes its coded refusal
    (schema/errors.py), a document that does not parse or validate, or variables that do
    not fit it, get the code of that kind of mistake; anything else is logged with the
    request id and masked, the client getting only the id to quote."""

    def __init__(self) -> None:
        super().__init__(
            should_mask_error=lambda error: (
                error.original_error is not None or not (error.extensions or {}).get("code")
            )
        )

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if _over_token_limit(error):
            return too_complex(f"The document has more than {MAX_TOKENS} tokens; {SPLIT}")
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            if not (error.extensions or {}).get("code"):
                # graphql-core's refusal of the document or its variables. Coded in place:
                # the WebSocket handler tells a syntax error by its class.
                error.extensions = {**(error.extensions or {}), "code": document_error_code(error)}
            return error
        refusal = refusal_for(original) if original is not None else None
        if refusal is not None:
            return GraphQLError(
                message=refusal.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={"code": refusal.code, **refusal.extensions},
            )
        context = self.execution_context.context
        request_id = getattr(context, "request_id", "unknown")
        log.error(
            "Unexpected error in request %s at %s",
            request_id,
            error.path,
            exc_info=original,
        )
        return GraphQLError(
            message=f"Unexpected error; quote request id {request_id} when you report it.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )


def too_complex(message: str) -> GraphQLError:
    return refused(QueryTooComplexError(message))


def _over_token_limit(error: GraphQLError) -> bool:
    # graphql-core stops parsing at the token limit with a syntax error that only its
    # message tells apart from the others.
    return isinstance(error, GraphQLSyntaxError) and f"more than {MAX_TOKENS} tokens" in (
        error.message
    )


class _CodedReports:
    """What a limit rule sees of the validation: its refusals get QUERY_TOO_COMPLEX."""

    def __init__(self, context: ValidationContext) -> None:
        self._context = context
        self.document = context.document

    def report_error(self, error: GraphQLError) -> None:
        coded = too_complex(f"{error.message}; {SPLIT}")
        self._context.report_error(
            GraphQLError(coded.message, error.nodes, extensions=coded.extensions)
        )


def coded(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
    """Strawberry's limit `rule`, refusing with QUERY_TOO_COMPLEX. These rules do all their
    work when built and visit nothing, so they are built on the coded reports only."""

    class Coded(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            rule(cast(ValidationContext, _CodedReports(context)))

    return Coded


# The limiters define a new rule class per instance, and ValidationCache keys on the
# rule classes: build them once, so that a document seen before is not validated again.
LIMIT_RULES: list[type[ASTValidationRule]] = [
    *map(coded, QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules),
    *map(coded, MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules),
]


class Parser(ParserCache):
    """ParserCache, except that a document that does not parse is left to Strawberry's own
    parse, which answers with the error on every transport (raised from here, a syntax
    error escapes the WebSocket handler, which logs it and sends a bare `complete`)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        # A document that does not parse is parsed again, and reported, by Strawberry.
        with suppress(GraphQLError):
            if context.query:
                context.graphql_document = self.cached_parse_document(
                    context.query, **context.parse_options
                )
        yield


class QueryCost(SchemaExtension):
    """Refuses, before it runs, an operation that costs more than MAX_QUERY_COST (see
    schema/cost.py). Listed after ValidationCache, so that it costs valid documents only."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors == [] and context.graphql_document is not None:
            cost = query_cost(
                context.schema._schema,
                context.graphql_document,
                context.variables,
                context.operation_name,
            )
            if cost > MAX_QUERY_COST:
                context.pre_execution_errors = [
                    too_complex(
                        f"The query costs {cost:,}, over the limit of {MAX_QUERY_COST:,} "
                        f"(page sizes multiplied along the nesting, for every field); {SPLIT}"
                    )
                ]
        yield


def extensions() -> list[type[SchemaExtension] | Callable[[], SchemaExtension]]:
    return [
        lambda: AddValidationRules(LIMIT_RULES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: Parser(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        QueryCost,
        CodedErrors,
    ]
