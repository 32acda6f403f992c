"""One span per GraphQL operation, when traces are on (README "Traces and
error reports"); imported only then, so with them off nothing of
OpenTelemetry is loaded.

Not Strawberry's OpenTelemetryExtension: it has a `resolve` hook, which
makes every field of every answer a span (and an awaited call), and it
records the query text and the resolvers' arguments, where personal data
is (an email, an address). This span has what the request's log line has,
taken from the same record (apps.core.request_context), so one place
computes the operation's facts: its name and type, the user's id (never
an email), its cost and the error codes the client got.

An operation the response cache answers runs no extension: `hit_span`, which
the cache calls only while traces are on (`install`), is its span.
"""

from collections.abc import Iterator
from contextlib import ExitStack

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode, TracerProvider
from strawberry.extensions import SchemaExtension

from apps.core import request_context
from schema import response_cache

# Set by commerce.telemetry.setup (`install`); None reads the global provider.
provider: TracerProvider | None = None

# The log line's facts, and the attribute each is on the span
# (OpenTelemetry's semantic conventions where there is one).
ATTRIBUTES = {
    "operation": "graphql.operation.name",
    "operation_type": "graphql.operation.type",
    "user_id": "enduser.id",
    "cost": "commerce.cost",
    "error_codes": "commerce.error_codes",
    "response_cache": "graphql.response_cache",  # "hit", "not_modified": nothing executed
}
REQUEST_ID = "commerce.request_id"
UNNAMED = "GraphQL operation"  # until its type and name are known


def install(tracer_provider: TracerProvider | None) -> None:
    """Trace operations, the response cache's answers among them, through
    `tracer_provider`; None: the cache's answers no longer."""
    global provider
    provider = tracer_provider
    response_cache.trace_hit = None if tracer_provider is None else hit_span


def span_attributes(record: request_context.Record) -> dict[str, str | int | list[str]]:
    attributes: dict[str, str | int | list[str]] = {REQUEST_ID: record.request_id}
    for fact, attribute in ATTRIBUTES.items():
        value = record.facts.get(fact)
        if value is not None:
            attributes[attribute] = str(value) if fact == "user_id" else value
    return attributes


def span_name(attributes: dict[str, str | int | list[str]]) -> str:
    """`<type> <name>` (`query ProductList`), as much of it as is known."""
    return " ".join(str(attributes[key]) for key in (
        ATTRIBUTES["operation_type"], ATTRIBUTES["operation"]) if key in attributes)


def hit_span(started: int) -> None:
    """The span of an operation the response cache answered (`started`: the
    lookup's start, in ns), named and attributed as an executed one's, from
    the same record. It has no children: nothing ran, and the cache reads
    of the lookup are its siblings, made before anyone knew it would hit."""
    record = request_context.current()
    if record is None:
        return
    attributes = span_attributes(record)
    tracer = trace.get_tracer(__name__, tracer_provider=provider)
    tracer.start_span(span_name(attributes) or UNNAMED, start_time=started,
                      attributes=attributes).end()


class OperationSpan(SchemaExtension):
    """The operation's span, current while it runs, so that the database,
    cache and task spans below it are its children. Outermost of the
    extensions, so that it ends after OperationFacts noted the facts."""

    def on_operation(self) -> Iterator[None]:
        tracer = trace.get_tracer(__name__, tracer_provider=provider)
        with ExitStack() as stack:
            record = request_context.current()
            if record is None:
                # Over WebSocket no request record is current: one of the
                # operation's own, for the facts to be noted into.
                record = stack.enter_context(
                    request_context.serving(request_context.new_request_id()))
            span = stack.enter_context(tracer.start_as_current_span(
                UNNAMED, record_exception=False, set_status_on_exception=False))
            try:
                yield
            finally:
                attributes = span_attributes(record)
                span.set_attributes(attributes)
                name = span_name(attributes)
                if name:
                    span.update_name(name)
                if "INTERNAL_SERVER_ERROR" in record.facts.get("error_codes", ()):
                    span.set_status(Status(StatusCode.ERROR))
