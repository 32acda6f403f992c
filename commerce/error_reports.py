"""Error reports to Sentry, on when SENTRY_DSN is set (README "Traces and
error reports"). Off, `setup` reads one setting and returns: sentry-sdk is
not imported.

What is reported, once each:
- an unexpected error in a GraphQL operation, which the client gets as
  INTERNAL_SERVER_ERROR: schema.extensions.ErrorCodes logs it with its
  traceback on `commerce.graphql`, and Sentry's logging integration makes
  that record the event, over HTTP and WebSocket alike. Strawberry's
  integration also reports every error of an HTTP answer, the client's own
  (UNAUTHENTICATED, BAD_USER_INPUT) too and without the original
  traceback: those events are dropped here, so nothing is reported twice;
- a 500 from Django (its integration);
- a task that fails for good (the Celery integration). A retry is not a
  failure: the notifications' tasks retry an OSError up to
  NOTIFICATIONS_MAX_RETRIES times, and only the last attempt's error is
  reported. Celery's own log line of the failure is not an event.

Every event is tagged with the request id (the same as in the logs and the
X-Request-ID header; a task's is its request's) and the operation's name
(a task's event names the task). Nothing
personal leaves: Sentry's `data_collection` collects no user, cookies,
request bodies (GraphQL variables hold emails and passwords), query
strings, task arguments or local variables of the traceback's frames, and
`_scrubbed` filters what is left: values under keys that name credentials,
and email addresses and bearer tokens anywhere.

Strawberry's integration adds an extension with a `resolve` hook to any
schema built after `setup`, which would run every field of every answer
through it: `setup` is called after the schema is built (commerce.asgi).
"""

import re
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from sentry_sdk.types import Event, Hint

from apps.core import request_context

FILTERED = "[Filtered]"
# Keys whose values are credentials or what a client typed (variables).
_SECRET_KEY = re.compile(
    r"authorization|cookie|passw|token|secret|api.?key|otp|csrf|session|signature|variables",
    re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_BEARER = re.compile(r"(bearer|basic)\s+[\w.~+/=-]+", re.IGNORECASE)


def setup(*, dsn: str | None = None, transport: Any = None) -> bool:
    """Report errors of this process, when SENTRY_DSN (or `dsn`, for the
    tests, with their `transport`) is set. Whether it is on."""
    dsn = dsn or settings.SENTRY_DSN
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import ignore_logger
    from sentry_sdk.integrations.strawberry import StrawberryIntegration

    sentry_sdk.init(
        dsn=dsn,
        transport=transport,
        environment=settings.SENTRY_ENVIRONMENT,
        release=settings.SENTRY_RELEASE or None,
        integrations=[
            DjangoIntegration(),
            # Traces are OpenTelemetry's (commerce.telemetry): no Sentry
            # trace headers in task messages.
            CeleryIntegration(propagate_traces=False),
            StrawberryIntegration(async_execution=True),
        ],
        # Nothing of who the user is (their id is in the request's log
        # line), no cookies, bodies, query strings, GraphQL documents or
        # variables, SQL parameters, task arguments or frames' variables.
        data_collection={
            "user_info": False, "cookies": {"mode": "off"}, "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "graphql": {"document": False, "variables": False},
            "database_query_data": False, "queues": False, "stack_frame_variables": False,
        },
        before_send=before_send,
    )
    # Strawberry logs every resolver error (settings.LOGGING silences it);
    # ours are logged once, by schema.extensions.
    ignore_logger("strawberry.execution")
    # A collector that is down is logged by the exporter at every batch;
    # it is in the logs, not an error of the application's.
    ignore_logger("opentelemetry.*")
    return True


def stop() -> None:
    """Stop reporting (the tests' way back to reports off)."""
    import sentry_sdk

    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


def before_send(event: "Event", hint: "Hint") -> "Event | None":
    if _mechanism(event) == "strawberry":
        return None
    record = request_context.current()
    if record is not None:
        tags = event.setdefault("tags", {})
        tags["request_id"] = record.request_id
        operation = record.facts.get("operation")
        if operation:
            tags["operation"] = operation
    scrubbed: Event = _scrubbed(event)
    return scrubbed


def _mechanism(event: "Event") -> str | None:
    for value in (event.get("exception") or {}).get("values") or ():
        mechanism = value.get("mechanism") or {}
        if mechanism.get("type"):
            return str(mechanism["type"])
    return None


def _scrubbed(value: Any, key: str = "") -> Any:
    if key and _SECRET_KEY.search(key):
        return FILTERED if value else value
    if isinstance(value, dict):
        return {name: _scrubbed(item, str(name)) for name, item in value.items()}
    if isinstance(value, list | tuple):
        # Headers come as [name, value] pairs.
        if len(value) == 2 and isinstance(value[0], str) and _SECRET_KEY.search(value[0]):
            return [value[0], FILTERED]
        return [_scrubbed(item) for item in value]
    if isinstance(value, str):
        return _BEARER.sub(FILTERED, _EMAIL.sub(FILTERED, value))
    return value
