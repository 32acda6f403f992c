"""Traces (commerce.telemetry, schema.telemetry): a request's server span,
its GraphQL operation's span beneath it with the log line's facts, the
database, cache and task spans beneath that; the trace context carried to
a worker in a task's message; a collector that cannot be reached costing a
request nothing; and traces off adding nothing at all."""

import json
import logging
import os
import socket
import subprocess
import sys
import time

import pytest
from celery.signals import after_task_publish, before_task_publish, task_postrun, task_prerun
from django.conf import settings
from django.core import mail
from django.db import connection
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from apps.accounts.permissions import Perm
from apps.core import request_context
from apps.core.tasks import dispatch_pending_events
from commerce import telemetry
from schema import response_cache
from schema.extensions import schema_extensions
from schema.telemetry import OperationSpan
from tests.conftest import Client, client_for, make_user, token_for
from tests.tracing import ids, ids_of, trace_on

ADA = "ada@example.com"
RESET = 'mutation Forgot { passwordResetRequest(email: "' + ADA + '") { errors { code } } }'


def attribute_values(spans: list[ReadableSpan]) -> str:
    return repr([(span.name, dict(span.attributes or {})) for span in spans])


@pytest.mark.django_db(transaction=True)
def test_a_request_is_one_trace_down_to_its_statements_and_its_email(traced, caplog):
    make_user(email=ADA)
    with caplog.at_level(logging.INFO):
        response = Client().request("POST", json={"query": RESET})
    assert response.status_code == 200 and len(mail.outbox) == 1

    server = traced.named("POST /graphql/")
    assert server.kind is SpanKind.SERVER and server.parent is None
    operation = traced.named("mutation Forgot")
    assert operation.parent.span_id == server.context.span_id
    attributes = dict(operation.attributes)
    assert attributes["graphql.operation.name"] == "Forgot"
    assert attributes["graphql.operation.type"] == "mutation"
    assert attributes["commerce.cost"] > 0
    assert attributes["commerce.request_id"] == response.headers["X-Request-ID"]
    assert "enduser.id" not in attributes  # anonymous

    # The email's task ran (eagerly) on the commit, inside the operation.
    [task] = [s for s in traced.spans() if s.name.startswith("run/") and "password_reset" in s.name]
    assert operation in traced.ancestors(task)
    assert task.context.trace_id == server.context.trace_id
    # The task's log line (written in its span) leads to it.
    task_lines = [r for r in caplog.records if r.name == "commerce.tasks"
                  and "password_reset" in r.task]
    assert task_lines and {ids_of(r) for r in task_lines} == {ids(task)}

    # Beneath them, the statements and cache calls (the test's own, making
    # the user, are traces of their own).
    beneath = {kind: [traced.ancestors(s) for s in traced.spans()
                      if s.attributes.get("db.system") == kind]
               for kind in ("postgresql", "redis")}
    if connection.vendor == "postgresql":
        assert any(operation in chain for chain in beneath["postgresql"])
        assert any(task in chain for chain in beneath["postgresql"])
    if settings.REDIS_URL:
        assert any(operation in chain for chain in beneath["redis"])
    # Nothing personal: the email the client sent is in no span.
    assert ADA not in attribute_values(traced.spans())


@pytest.mark.django_db
def test_the_operation_span_has_the_user_id_and_the_error_codes(traced):
    customer = make_user(email=ADA)
    answer = client_for(customer).request("POST", json={
        "query": "query Mine { me { email } customers(first: 1) { totalCount } }"}).json()
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    attributes = dict(traced.named("query Mine").attributes)
    assert attributes["enduser.id"] == str(customer.pk)
    assert list(attributes["commerce.error_codes"]) == ["FORBIDDEN"]
    assert ADA not in attribute_values(traced.spans())


@pytest.mark.django_db
def test_a_get_requests_query_string_stays_out_of_the_server_span(traced):
    Client().request("GET", "/graphql/", params={
        "query": "query Mine { me { id } }", "variables": json.dumps({"email": ADA})},
        headers={"Apollo-Require-Preflight": "true"})
    server = traced.named("GET /graphql/")
    assert server.attributes["http.url"] == "http://testserver/graphql/"
    assert ADA not in attribute_values(traced.spans())


@pytest.mark.django_db
def test_an_internal_error_marks_the_operation_span(traced, monkeypatch):
    from apps.accounts import selectors

    def broken(**kwargs):
        raise RuntimeError("no such row")

    monkeypatch.setattr(selectors, "user_as_queryset", broken)
    staff = make_user(perms=[Perm.MANAGE_CUSTOMERS])
    client_for(staff).request("POST", json={"query": "query Me { me { id } }"})
    span = traced.named("query Me")
    assert list(span.attributes["commerce.error_codes"]) == ["INTERNAL_SERVER_ERROR"]
    assert not span.status.is_ok


@pytest.mark.django_db
def test_an_operation_over_websocket_has_its_span_and_facts(traced):
    from asgiref.sync import async_to_sync

    from tests.websocket import socket

    customer = make_user(email=ADA)

    async def run() -> dict:
        async with socket(token=token_for(customer)) as ws:
            await ws.subscribe("query Mine { me { id } }")
            return await ws.receive()

    assert async_to_sync(run)()["type"] == "next"
    span = traced.named("query Mine")
    assert span.attributes["enduser.id"] == str(customer.pk)
    assert span.attributes["commerce.request_id"]
    assert traced.ancestors(span)[-1].name == "HTTP /graphql/"  # the connection's span


def test_a_task_message_carries_the_trace_to_the_worker(traced, caplog):
    """What Celery does on each side, through the real instrumentation: the
    publishing process's signals write the trace context into the message's
    headers; the worker's Context has the headers as request attributes."""
    task = dispatch_pending_events
    headers = {"id": "task-1", "task": task.name}
    tracer = traced.provider.get_tracer(__name__)
    with tracer.start_as_current_span("checkout") as checkout:
        before_task_publish.send(sender=task.name, headers=headers, body=((), {}, {}))
        after_task_publish.send(sender=task.name, headers=headers, body=((), {}, {}))
    assert "traceparent" in headers

    # In the worker, no span is current: the message alone links the run.
    task.push_request(id="task-1", hostname="worker", traceparent=headers["traceparent"])
    try:
        with caplog.at_level(logging.INFO, logger="commerce.tasks"):
            task_prerun.send(sender=task, task_id="task-1", task=task, args=(), kwargs={})
            task_postrun.send(sender=task, task_id="task-1", task=task, args=(), kwargs={},
                              retval=None, state="SUCCESS")
    finally:
        task.pop_request()
    published = traced.named(f"apply_async/{task.name}")
    run = traced.named(f"run/{task.name}")
    assert published.parent.span_id == checkout.get_span_context().span_id
    assert run.parent.span_id == published.context.span_id
    assert run.context.trace_id == checkout.get_span_context().trace_id
    # The worker's line of the task is in the run's span, so in the trace.
    [line] = [r for r in caplog.records if r.name == "commerce.tasks"]
    assert ids_of(line) == ids(run)


@pytest.mark.django_db
def test_a_collector_that_cannot_be_reached_costs_a_request_nothing(monkeypatch):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "0.5")
    for provider in trace_on(monkeypatch, telemetry._batch_processor()):
        for _ in range(3):
            response = Client().request("POST", json={
                "query": "query Cards { products(first: 2) { edges { node { name } } } }"})
            assert response.status_code == 200 and "errors" not in response.json()
        # The export fails on the processor's thread, within its timeout.
        started = time.monotonic()
        provider.force_flush()
        assert time.monotonic() - started < 5


def test_traces_off_add_no_extension(settings):
    settings.TRACING = False
    assert OperationSpan not in schema_extensions()
    assert telemetry.setup("commerce-web") is None
    # No hook on a log line or a response cache answer.
    assert request_context.span_ids is None and response_cache.trace_hit is None
    app = object()
    assert telemetry.traced_asgi(app, None) is app
    settings.TRACING = True
    assert schema_extensions()[0] is OperationSpan


def loaded_app(probe: str, **variables: str) -> str:
    """What `probe` prints in a process that loaded the ASGI app with these
    OTEL_ and SENTRY_ variables (and none else)."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("OTEL_", "SENTRY_"))}
    env.update(variables, DJANGO_SETTINGS_MODULE="commerce.settings_test")
    loaded = subprocess.run([sys.executable, "-c", "import sys, commerce.asgi\n" + probe],
                            env=env, cwd=settings.BASE_DIR, capture_output=True, text=True,
                            timeout=120)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    return loaded.stdout.strip().splitlines()[-1]


def test_traces_and_reports_off_load_neither():
    """The ASGI app, loaded without OTEL_EXPORTER_OTLP_ENDPOINT or
    SENTRY_DSN, loads no tracer, instrumentation, exporter or Sentry.
    (redis-py 8 imports OpenTelemetry's API and metrics for its own
    optional observability, whatever our settings.)"""
    assert loaded_app(
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk.trace', "
        "'opentelemetry.instrumentation', 'opentelemetry.exporter', 'sentry_sdk', "
        "'schema.telemetry'))))") == "[]"


def test_traces_and_reports_on_wrap_the_app_and_lead_the_extensions():
    """On, the app is the ASGI instrumentation's, the operation span leads
    the schema's extensions, and Sentry's Strawberry extension (a hook on
    every field) is not among them: Sentry starts after the schema."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    printed = loaded_app(
        "from schema.schema import schema\n"
        "print(type(commerce.asgi.application).__name__, "
        "[e.__name__ for e in schema.extensions][:2])",
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
        SENTRY_DSN="https://public@sentry.invalid/1")
    assert printed == "OpenTelemetryMiddleware ['OperationSpan', 'OperationFacts']"
