"""Traces on for a test: the spans it made, kept in memory (the `traced`
fixture of tests/conftest.py), and the trace and span ids its log lines got.
A module of its own, so that a run without a tracing test imports nothing of
the OpenTelemetry SDK."""

import logging
from collections.abc import Iterator

from django.db import connection
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import format_span_id, format_trace_id

import commerce.asgi
from commerce import telemetry
from schema.schema import schema
from schema.telemetry import OperationSpan


class Traced:
    def __init__(self, provider: TracerProvider, exporter: InMemorySpanExporter):
        self.provider = provider
        self.exporter = exporter

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> ReadableSpan:
        [span] = [span for span in self.spans() if span.name == name]
        return span

    def ancestors(self, span: ReadableSpan) -> list[ReadableSpan]:
        by_id = {s.context.span_id: s for s in self.spans()}
        chain = []
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            chain.append(span)
        return chain


def trace_on(monkeypatch, processor: SpanProcessor) -> Iterator[TracerProvider]:
    """Traces on as commerce.asgi turns them on (the app wrapped, the
    operation span first in the schema's extensions), with `processor`; and
    off again after."""
    provider = telemetry.setup("commerce-web", processor=processor)
    assert provider is not None
    monkeypatch.setattr(commerce.asgi, "application",
                        telemetry.traced_asgi(commerce.asgi.application, provider))
    monkeypatch.setattr(schema, "extensions", (OperationSpan, *schema.extensions))
    fresh_database_connections()
    try:
        yield provider
    finally:
        telemetry.uninstrument()
        provider.shutdown()
        fresh_database_connections()


def fresh_database_connections() -> None:
    """PostgreSQL connections opened before the instrumentation (the pool's)
    are not traced: the pool is closed so that the next is made through it
    (and after it, so that no traced connection outlives the test). Only
    between transactions: a test inside one keeps its connection, untraced."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        connection.close()
        connection.close_pool()


def in_memory(monkeypatch) -> Iterator[Traced]:
    """Traces on for a test, its spans kept in memory (conftest's `traced`)."""
    exporter = InMemorySpanExporter()
    for provider in trace_on(monkeypatch, SimpleSpanProcessor(exporter)):
        yield Traced(provider, exporter)


def ids(span: ReadableSpan) -> tuple[str, str]:
    """A span's trace and span ids as a log line has them."""
    return format_trace_id(span.context.trace_id), format_span_id(span.context.span_id)


def ids_of(record: logging.LogRecord) -> tuple[str, str] | None:
    """The trace and span ids a log line got (None: neither)."""
    if not hasattr(record, "trace_id"):
        assert not hasattr(record, "span_id")
        return None
    return record.trace_id, record.span_id
