"""Schema extensions: guards against abusive documents, and coded or masked errors."""

from __future__ import annotations

import logging
from collections.abc import Callable

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

from schema.errors import refusal_for

log = logging.getLogger("roster.errors")

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 30


class CodedErrors(MaskErrors):
    """Every error a client sees carries an `extensions.code`: an expected failure raised
    in a resolver (a domain error, a bad token, a lost lease) becomes its coded refusal
    (schema/errors.py); anything else is logged with the request id and masked, the
    client getting only the id to quote."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: error.original_error is not None)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, GraphQLError):
            return error  # coded where it was raised
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
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        CodedErrors,
    ]
