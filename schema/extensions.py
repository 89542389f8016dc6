"""Schema extensions: guards against abusive documents, and masking of unexpected errors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence

from graphql import GraphQLError
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

log = logging.getLogger("roster.errors")

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 30


def is_unexpected(error: GraphQLError) -> bool:
    """Coded errors (GraphQLError) reach clients; any other exception is masked."""
    return error.original_error is not None and not isinstance(error.original_error, GraphQLError)


class MaskUnexpectedErrors(MaskErrors):
    """Logs the real error with the request id; the client gets only the id to quote."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        context = self.execution_context.context
        request_id = getattr(context, "request_id", "unknown")
        log.error(
            "Unexpected error in request %s at %s",
            request_id,
            error.path,
            exc_info=error.original_error,
        )
        return GraphQLError(
            message=f"Unexpected error; quote request id {request_id} when you report it.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )


class CodedParserCache(ParserCache):
    """ParserCache, whose refusal of a document that is not GraphQL (or is too long) is
    coded GRAPHQL_PARSE_FAILED like every other error."""

    def on_parse(self) -> Iterator[None]:
        try:
            yield from super().on_parse()
        except GraphQLError as error:
            _code([error], "GRAPHQL_PARSE_FAILED")
            raise


class CodeRefusedRequests(SchemaExtension):
    """Codes the errors of a request refused before any resolver ran, as for every other
    error: GRAPHQL_VALIDATION_FAILED for a document the schema does not allow (or too
    deep, or with too many aliases), BAD_USER_INPUT for variables that do not fit their
    types."""

    def on_validate(self) -> Iterator[None]:
        yield
        _code(self.execution_context.pre_execution_errors, "GRAPHQL_VALIDATION_FAILED")

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        # graphql-core refuses the variables before it runs anything: those errors have no path.
        errors = getattr(result, "errors", None) or []
        _code([error for error in errors if error.path is None], "BAD_USER_INPUT")


def _code(errors: Sequence[GraphQLError] | None, code: str) -> None:
    for error in errors or ():
        if not is_unexpected(error) and "code" not in (error.extensions or {}):
            error.extensions = {**(error.extensions or {}), "code": code}


# The limiters define a new rule class per instance, and ValidationCache keys on the
# rule classes: build them once, so that a document seen before is not validated again.
LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


def extensions() -> list[type[SchemaExtension] | Callable[[], SchemaExtension]]:
    return [
        lambda: AddValidationRules(LIMIT_RULES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: CodedParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        CodeRefusedRequests,
        MaskUnexpectedErrors,
    ]
