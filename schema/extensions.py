"""Schema extensions. Passed to the schema as classes or factories, never as
instances, so no state leaks from one request into the next."""

import functools
import logging
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.cache import cache
from graphql import GraphQLError, StringValueNode, ValidationRule
from graphql.validation import NoSchemaIntrospectionCustomRule
from django.http import HttpRequest
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from apps.core import request_context
from schema.cost_limits import QueryCostLimits
from schema.replicas import replica_reads
from schema.errors import BAD_USER_INPUT, with_code
from schema.executor import NUL, variables_error
from schema.parsing import parse_document
from schema.validation import (
    hide_suggestions,
    operation_count,
    shape_limits,
    validate_document,
    validation_rules,
)

logger = logging.getLogger("commerce.graphql")

APQ_PREFIX = "apq:"


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


class OperationFacts(SchemaExtension):
    """Note the operation in its request's log line (apps.core.request_context):
    its name and type, the user, and the error codes the client was given."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except GraphQLError as error:
            # Refused by a hook (a syntax error, a bad token, an unknown
            # persisted query): strawberry answers it after this has ended.
            self._note([error])
            raise
        self._note(getattr(self.execution_context.result, "errors", None) or ())

    def _note(self, errors: Any) -> None:
        context = self.execution_context
        user = getattr(context.context, "user", None)
        note_operation(context)
        request_context.note(
            user_id=getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None,
            error_codes=sorted({str((error.extensions or {}).get("code")) for error in errors})
            or None,
        )


def note_operation(context: ExecutionContext) -> None:
    try:
        operation_type = context.operation_type.value
    except Exception:  # noqa: BLE001 - no operation: a document that did not parse
        operation_type = None
    request_context.note(operation=context.operation_name, operation_type=operation_type)


class ErrorCodes(SchemaExtension):
    """Give every error an `extensions.code` and hide unexpected ones.

    An exception that is not a GraphQLError is a bug: it is logged with its
    traceback and the client sees INTERNAL_SERVER_ERROR, with no detail
    outside DEBUG.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        self._code(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        # Over WebSocket each result is sent as it comes, long before the
        # operation ends: a subscription's, and a query's or mutation's too.
        self._code(result)
        yield

    def _code(self, result: Any) -> None:
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [self._coded(error) for error in errors]

    def _coded(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, (CannotGetOperationTypeError, InvalidOperationTypeError)):
            # Over WebSocket (HTTP answers these before the schema runs): an
            # unknown operation name, or a query sent over graphql-ws, whose
            # `start` takes subscriptions only.
            return with_code(error, "BAD_REQUEST")
        if original is not None and not isinstance(original, GraphQLError):
            # Noted before OperationFacts would, so that the error's report
            # (commerce.error_reports) names the operation.
            note_operation(self.execution_context)
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
        if (error.extensions or {}).get("code"):
            return error
        # Parsing, validation and variable coercion code their own errors
        # (schema/parsing.py, validation.py, executor.py); anything else
        # uncoded is a bug to fix.
        note_operation(self.execution_context)
        logger.error("Uncoded GraphQL error at %s: %s", error.path, error.message)
        error.extensions = {**(error.extensions or {}), "code": "INTERNAL_SERVER_ERROR"}
        return error


class NoNulInStringLiterals(ValidationRule):
    """PostgreSQL text cannot hold the NUL character: refuse it up front as the
    client's mistake, not as a database error in the middle of a write."""

    def enter_string_value(self, node: StringValueNode, *args) -> None:
        if NUL in node.value:
            self.report_error(GraphQLError("Strings cannot contain the NUL character.", node))


@functools.cache
def _limit_rules(
    introspection: bool, merge_budget: int, **limits: int
) -> tuple[type[ValidationRule], ...]:
    """The validation rules for these limits, built once: the same rule
    classes every time let the validation cache recognise a document."""
    introspection_rules = () if introspection else (NoSchemaIntrospectionCustomRule,)
    # Rule classes hash by identity; the stubs type ValidationRule's
    # __hash__ so that mypy does not see them as Hashable.
    return validation_rules(
        shape_limits(**limits),  # type: ignore[arg-type]
        NoNulInStringLiterals, *introspection_rules,
        merge_budget=merge_budget,
    )


class QueryLimits(SchemaExtension):
    """Depth, aliases, selections and tokens limits, introspection and NUL
    characters, from the settings at the time of the request (so tests and
    deploys can change them)."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        refused = variables_error(context.variables)
        if refused:
            raise GraphQLError(refused, extensions={"code": BAD_USER_INPUT})
        context.parse_options["max_tokens"] = settings.GRAPHQL_MAX_TOKENS
        context.validation_rules = _limit_rules(
            settings.GRAPHQL_INTROSPECTION,
            settings.GRAPHQL_MAX_FIELD_COMPARISONS,
            max_depth=settings.GRAPHQL_MAX_DEPTH,
            max_aliases=settings.GRAPHQL_MAX_ALIASES,
            max_selections=settings.GRAPHQL_MAX_SELECTIONS,
        )
        yield


_parse = functools.lru_cache(maxsize=512)(parse_document)


class DocumentCache(SchemaExtension):
    """Parse (once per document text), with the errors coded.

    A syntax error is raised from the hook, so strawberry answers it as an
    error before execution without parsing again.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query:
            context.graphql_document = _parse(context.query, max_tokens=settings.GRAPHQL_MAX_TOKENS)
        yield


class Validation(SchemaExtension):
    """Validate (once per document and rules), with suggestions as the
    settings have them, and refuse a document of several operations that
    does not say which to run: graphql-core would, but strawberry passes it
    the first operation's name."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        assert document is not None  # strawberry validates parsed documents only
        errors = validate_document(
            context.schema._schema, document, context.validation_rules, hide_suggestions()
        )
        # The operation name the request sent (strawberry's operation_name
        # falls back to the first operation's).
        if not errors and context._provided_operation_name is None and (
            operation_count(document) > 1
        ):
            errors = [GraphQLError(
                "Must provide operation name if query contains multiple operations.",
                extensions={"code": BAD_USER_INPUT},
            )]
        if not errors and _subscription_over_http(context):
            errors = [GraphQLError(
                "Subscriptions go over WebSocket, on this same path "
                "(graphql-transport-ws or graphql-ws).",
                extensions={"code": "BAD_REQUEST"},
            )]
        context.pre_execution_errors = errors
        yield


def _subscription_over_http(context: ExecutionContext) -> bool:
    """Whether this is a subscription sent over HTTP, which would run nothing:
    over HTTP strawberry executes a subscription field as a query field,
    which answers null, past its rule."""
    if not isinstance(getattr(context.context, "request", None), HttpRequest):
        return False
    try:
        return context.operation_type is OperationType.SUBSCRIPTION
    except CannotGetOperationTypeError:  # an unknown operation name, refused later
        return False


def schema_extensions() -> list:
    """The schema's extensions, in order: error codes, guards, limits, then
    parsing and validation, which must see the limits' rules.

    Each is a class or a factory, instantiated per operation. With traces
    on (OTEL_EXPORTER_OTLP_ENDPOINT), the operation's span comes first, to
    end last; off, it is not in the list at all.
    """
    tracing: list = []
    if settings.TRACING:
        from schema.telemetry import OperationSpan

        tracing.append(OperationSpan)
    return [
        *tracing,
        OperationFacts,
        ErrorCodes,
        Authentication,
        PersistedQueries,
        QueryLimits,
        DocumentCache,
        Validation,
        QueryCostLimits,
        replica_reads,
    ]
