"""The request or task being served: its id, and the facts its log line ends
with (README "Logs and request ids").

The id comes from a trusted proxy's `X-Request-ID` when it is well formed,
is made here otherwise, is returned in the response, goes with every task
the request enqueues (a Celery message header) and every webhook delivery
those tasks make, so one id finds a checkout, its confirmation email and its
webhooks in the logs. It is kept in a context variable: asgiref copies the
context into the threads a request hops to and Celery's eager tasks run in
the caller's, so code anywhere below reads it without being handed it.

The facts (the GraphQL operation's name and type, the user id, the cost, the
error codes) are noted by the layers that know them, into the one mutable
record of the request, which is why a note made in another thread still
reaches the line written at the end.
"""

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

HEADER = "X-Request-ID"
# What a proxy may send: printable, no spaces or quotes, bounded, so an id
# can be written into a log line or a header without escaping; anything
# else is replaced, never echoed.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:@+=/-]{1,128}")


@dataclass
class Record:
    request_id: str
    facts: dict[str, Any] = field(default_factory=dict)
    # SQL queries made while it was served, counted only with metrics on
    # (commerce.metrics), from whichever thread ran them.
    queries: int = 0


_current: ContextVar[Record | None] = ContextVar("commerce_request", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted_request_id(sent: str | None) -> str | None:
    """`sent` when it is a well-formed id, else None."""
    if sent and _WELL_FORMED.fullmatch(sent):
        return sent
    return None


def current() -> Record | None:
    return _current.get()


def current_request_id() -> str:
    record = _current.get()
    return record.request_id if record is not None else ""


@contextmanager
def serving(request_id: str) -> Iterator[Record]:
    """The record of a request or task, current while it is served."""
    record = Record(request_id=request_id)
    token = _current.set(record)
    try:
        yield record
    finally:
        _current.reset(token)


def note(**facts: Any) -> None:
    """Add facts to the current request's log line (nothing outside one)."""
    record = _current.get()
    if record is not None:
        record.facts.update({key: value for key, value in facts.items() if value is not None})


# The current span's trace and span ids (32 and 16 lowercase hex digits, as
# a W3C traceparent prints them), or None outside a span. Set by
# commerce.telemetry while traces are on; None while they are off, so that
# a log line then costs one read of it and nothing of OpenTelemetry.
span_ids: Callable[[], tuple[str, str] | None] | None = None


class RequestIdFilter:
    """A logging filter giving every record the current request id, so any
    line written while a request or task is served can be found with it;
    and, while traces are on and a span is current, `trace_id` and
    `span_id`, which lead from the line to its trace (README "Logs and
    request ids"). A record outside a span has neither, not empty ones."""

    def filter(self, record: Any) -> bool:
        record.request_id = current_request_id()
        if span_ids is not None:
            ids = span_ids()
            if ids is not None:
                record.trace_id, record.span_id = ids
        return True
