"""Schema extensions. Passed to the schema as classes or factories, never as
instances, so no state leaks from one request into the next."""

import functools
import logging
from collections.abc import Iterator
import re

from django.conf import settings
from django.core.cache import cache
from graphql import GraphQLError, StringValueNode, ValidationRule
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from schema.cost_limits import QueryCostLimits

logger = logging.getLogger("commerce.graphql")

APQ_PREFIX = "apq:"
# graphql-core's "did you mean" hints, which map the schema for a prober.
_SUGGESTION = re.compile(r" Did you mean .*\?$")


def apq_key(sha256_hash: str) -> str:
    return APQ_PREFIX + sha256_hash


class Authentication(SchemaExtension):
    """Refuse the whole operation when the request carried a bad token."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if getattr(context, "auth_error", None):
            raise GraphQLError(context.auth_error, extensions={"code": "UNAUTHENTICATED"})
        yield


class PersistedQueries(SchemaExtension):
    """Apollo Automatic Persisted Queries: a hash alone finds its stored query.

    The view has already checked that a sent query matches its hash and stored
    it; here a hash without a query is looked up.
    """

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        persisted = (context.operation_extensions or {}).get("persistedQuery")
        if isinstance(persisted, dict) and not context.query:
            query = cache.get(apq_key(str(persisted.get("sha256Hash", ""))))
            if query is None:
                raise GraphQLError(
                    "PersistedQueryNotFound",
                    extensions={"code": "PERSISTED_QUERY_NOT_FOUND"},
                )
            context.query = query
        yield


class ErrorCodes(SchemaExtension):
    """Give every error an `extensions.code` and hide unexpected ones.

    An exception that is not a GraphQLError is a bug: it is logged with its
    traceback and the client sees INTERNAL_SERVER_ERROR, with no detail
    outside DEBUG.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not getattr(result, "errors", None):
            return
        result.errors = [self._coded(error) for error in result.errors]

    def _coded(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is not None and not isinstance(original, GraphQLError):
            logger.error(
                "Unexpected error in %s", error.path, exc_info=(type(original), original,
                                                               original.__traceback__)
            )
            return GraphQLError(
                str(original) if settings.DEBUG else "Internal server error.",
                nodes=error.nodes,
                path=error.path,
                extensions={"code": "INTERNAL_SERVER_ERROR"},
            )
        if not settings.GRAPHQL_FIELD_SUGGESTIONS and _SUGGESTION.search(error.message):
            error = GraphQLError(
                _SUGGESTION.sub("", error.message), nodes=error.nodes, path=error.path,
                extensions=error.extensions,
            )
        if (error.extensions or {}).get("code"):
            return error
        if "Parsing aborted" in error.message:  # MaxTokensLimiter
            code = "GRAPHQL_VALIDATION_FAILED"
        elif self.execution_context.graphql_document is None:
            code = "GRAPHQL_PARSE_FAILED"
        elif error.path is None and error.message.startswith("Variable '$"):
            code = "BAD_USER_INPUT"
        elif error.path is None:
            code = "GRAPHQL_VALIDATION_FAILED"
        else:
            code = "INTERNAL_SERVER_ERROR"
        error.extensions = {**(error.extensions or {}), "code": code}
        return error


NUL = "\x00"


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_holds_nul(item) for item in value.values()) or any(
            _holds_nul(key) for key in value
        )
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


class NoNulInStringLiterals(ValidationRule):
    """PostgreSQL text cannot hold the NUL character: refuse it up front as the
    client's mistake, not as a database error in the middle of a write."""

    def enter_string_value(self, node: StringValueNode, *args) -> None:
        if NUL in node.value:
            self.report_error(GraphQLError("Strings cannot contain the NUL character.", node))


@functools.cache
def _limit_rules(max_depth: int, max_aliases: int, introspection: bool) -> tuple:
    """The validation rules for these limits, built once.

    The same rule objects every time let ValidationCache recognise a document
    it has already validated; strawberry's limiter extensions build new rule
    classes on each request, which would defeat it.
    """
    rules = [
        NoNulInStringLiterals,
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


class QueryLimits(SchemaExtension):
    """Depth, aliases and tokens limits, introspection and NUL characters,
    from the settings at the time of the request (so tests and deploys can
    change them)."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        if _holds_nul(context.variables):
            raise GraphQLError(
                "Strings cannot contain the NUL character.", extensions={"code": "BAD_USER_INPUT"}
            )
        context.parse_options["max_tokens"] = settings.GRAPHQL_MAX_TOKENS
        context.validation_rules = context.validation_rules + _limit_rules(
            settings.GRAPHQL_MAX_DEPTH, settings.GRAPHQL_MAX_ALIASES,
            settings.GRAPHQL_INTROSPECTION,
        )
        yield


class DocumentCache(ParserCache):
    """ParserCache that leaves a document it cannot parse to strawberry.

    ParserCache raises the syntax error from its hook, outside the operation,
    where no extension sees the result; strawberry's own parse reports it as
    a normal pre-execution error (and parse errors are rare enough to parse
    twice).
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query:
            try:
                context.graphql_document = self.cached_parse_document(
                    context.query, **context.parse_options
                )
            except GraphQLError:
                context.graphql_document = None
        yield


def schema_extensions() -> list:
    """The schema's extensions, in order: error codes, guards, limits, then the
    parse and validation caches, which must see the limits' rules.

    Each is a class or a factory, instantiated per operation.
    """
    return [
        ErrorCodes,
        Authentication,
        PersistedQueries,
        QueryLimits,
        lambda: DocumentCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        QueryCostLimits,
    ]
