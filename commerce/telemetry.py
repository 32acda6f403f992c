"""Traces with OpenTelemetry, on when OTEL_EXPORTER_OTLP_ENDPOINT is set
(README "Traces and error reports").

Off, `setup` reads one setting and returns: nothing of OpenTelemetry is
imported, no middleware wraps the app, no extension joins the schema.

On: a TracerProvider whose spans leave through a BatchSpanProcessor, on a
thread of its own, to the OTLP/HTTP exporter. A request only puts its spans
in the processor's bounded queue (full, they are dropped): a collector that
is slow or gone never slows or fails a request, and each export gives up
after OTEL_EXPORTER_OTLP_TIMEOUT seconds (2 here, not the exporter's 10),
which bounds what a process waits for at exit too.

What is traced:
- the ASGI app (`traced_asgi`), the server span of each request and
  WebSocket. Not DjangoInstrumentor: its middleware is sync only, so under
  ASGI Django would run every request through a thread hop of its own; the
  ASGI middleware is async and sees the same requests (every request is
  Django's or the GraphQL consumer's);
- the GraphQL operation, a span beneath it (schema.telemetry.OperationSpan);
- psycopg (PostgreSQL statements), redis-py (the cache, the budget, the
  channel layer), and Celery: publishing a task puts the trace context in
  the message's headers and the worker's run of it continues that trace,
  so a checkout and its confirmation email are one trace (an eager task
  runs inside the request's span).

Every log line written inside a span gets its `trace_id` and `span_id`
(apps.core.request_context.RequestIdFilter), which find its trace.
"""

import os
from typing import TYPE_CHECKING, Any

from django.conf import settings

from apps.core import request_context

if TYPE_CHECKING:
    from collections.abc import Callable

    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

DEFAULT_EXPORT_TIMEOUT = "2"  # seconds
# Health checks come every few seconds and say nothing worth a trace.
EXCLUDED_URLS = "/healthz"

_instrumentors: list[Any] = []


def setup(service_name: str, *, processor: "SpanProcessor | None" = None,
          ) -> "TracerProvider | None":
    """Trace this process, when traces are on; None when they are off.

    `service_name` ("commerce-web", "commerce-worker") is the default of
    OTEL_SERVICE_NAME. Tests pass a `processor` (the SDK's in-memory
    exporter behind a SimpleSpanProcessor) and get a provider that is not
    made the global one, which OpenTelemetry lets a process set only once.
    """
    if processor is None and not settings.TRACING:
        return None
    from opentelemetry import trace
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider

    import schema.telemetry

    provider = TracerProvider(resource=Resource.create(
        {SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME") or service_name}))
    provider.add_span_processor(processor or _batch_processor())
    if processor is None:
        trace.set_tracer_provider(provider)
    schema.telemetry.install(provider)
    request_context.span_ids = _span_ids_reader()
    _instrument(provider)
    return provider


def _span_ids_reader() -> "Callable[[], tuple[str, str] | None]":
    """What gives every log line its trace (apps.core.request_context.
    RequestIdFilter): the current span's trace and span ids in hex, None
    outside a span. Imported here, not per line."""
    from opentelemetry.trace import format_span_id, format_trace_id, get_current_span

    def span_ids() -> tuple[str, str] | None:
        context = get_current_span().get_span_context()
        if not context.is_valid:
            return None
        return format_trace_id(context.trace_id), format_span_id(context.span_id)

    return span_ids


def _batch_processor() -> "SpanProcessor":
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    timeout = float(os.environ.get("OTEL_EXPORTER_OTLP_TIMEOUT") or DEFAULT_EXPORT_TIMEOUT)
    return BatchSpanProcessor(OTLPSpanExporter(timeout=timeout),
                              export_timeout_millis=int(timeout * 1000))


def _instrument(provider: "TracerProvider") -> None:
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    for instrumentor in (PsycopgInstrumentor(), RedisInstrumentor(), CeleryInstrumentor()):
        # Statements' parameters are never recorded (capture_parameters is off).
        instrumentor.instrument(tracer_provider=provider)
        _instrumentors.append(instrumentor)


def uninstrument() -> None:
    """Undo `setup` (the tests' way back to traces off)."""
    import schema.telemetry

    while _instrumentors:
        _instrumentors.pop().uninstrument()
    schema.telemetry.install(None)
    request_context.span_ids = None


def traced_asgi(app: Any, provider: "TracerProvider | None") -> Any:
    """The ASGI app with a server span around each request, or the app
    itself when traces are off."""
    if provider is None:
        return app
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    # No span per ASGI message sent or received: two or three more per
    # request, saying only that bytes moved.
    return OpenTelemetryMiddleware(app, excluded_urls=EXCLUDED_URLS, tracer_provider=provider,
                                   exclude_spans=["receive", "send"],
                                   server_request_hook=_hide_query)


def _hide_query(span: Any, scope: dict[str, Any]) -> None:
    """A GET's query string is a GraphQL document with its variables (an
    email, an address): the server span keeps the URL without it."""
    if not scope.get("query_string") or not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    if "http.url" in attributes:  # the semantic conventions before 1.21
        span.set_attribute("http.url", str(attributes["http.url"]).split("?", 1)[0])
    if "url.query" in attributes:  # OTEL_SEMCONV_STABILITY_OPT_IN=http
        span.set_attribute("url.query", "")
