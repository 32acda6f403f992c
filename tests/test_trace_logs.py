"""Traces and logs tied together (README "Logs and request ids", "Traces and
error reports"): a log line written in a span names its trace and span (the
request's line: the server span; an operation's error: the operation span),
none outside a span or with traces off."""

import logging
import re

import pytest

from apps.accounts.permissions import Perm
from tests.conftest import Client, client_for, make_user
from tests.test_request_logs import json_line, request_lines
from tests.tracing import ids, ids_of

pytestmark = pytest.mark.django_db

PRODUCTS = "query Cards { products(first: 2) { edges { node { name } } } }"


def post_logged(caplog, client: Client, body: dict) -> tuple[str, logging.LogRecord]:
    """POST `body`; its request id and its request's log line."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="commerce.requests"):
        response = client.request("POST", json=body)
    assert response.status_code == 200
    [line] = request_lines(caplog)
    return response.headers["X-Request-ID"], line


# --- Log lines name their trace -------------------------------------------------


def test_a_requests_line_leads_to_its_trace(traced, caplog):
    _, line = post_logged(caplog, Client(), {"query": PRODUCTS})
    server = traced.named("POST /graphql/")
    assert ids_of(line) == ids(server)
    written = json_line(line)
    assert (written["trace_id"], written["span_id"]) == ids(server)
    assert re.fullmatch("[0-9a-f]{32}", written["trace_id"])
    assert re.fullmatch("[0-9a-f]{16}", written["span_id"])


def test_an_operations_error_line_is_in_the_operation_span(traced, server_errors, monkeypatch):
    from apps.accounts import selectors

    def broken(**kwargs):
        raise RuntimeError("no such row")

    monkeypatch.setattr(selectors, "user_as_queryset", broken)
    staff = make_user(perms=[Perm.MANAGE_CUSTOMERS])
    client_for(staff).request("POST", json={"query": "query Me { me { id } }"})
    [error] = server_errors()
    assert ids_of(error) == ids(traced.named("query Me"))


def test_a_line_outside_a_span_has_no_trace(traced, caplog):
    with caplog.at_level(logging.INFO, logger="commerce.tests"):
        logging.getLogger("commerce.tests").info("between requests")
    [line] = [r for r in caplog.records if r.name == "commerce.tests"]
    assert ids_of(line) is None
    written = json_line(line)
    assert "trace_id" not in written and "span_id" not in written


def test_with_traces_off_a_line_has_no_trace(caplog):
    _, line = post_logged(caplog, Client(), {"query": PRODUCTS})
    assert ids_of(line) is None
