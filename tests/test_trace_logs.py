"""Traces and logs tied together (README "Logs and request ids", "Traces and
error reports"): a log line written in a span names its trace and span (the
request's line: the server span; an operation's error: the operation span),
none outside a span or with traces off; and an answer of the response
cache, which executes nothing, is still its operation's span, marked so."""

import logging
import re

import pytest

from apps.accounts.permissions import Perm
from tests.conftest import Client, client_for, make_user
from tests.test_request_logs import json_line, request_lines
from tests.test_response_cache import (  # noqa: F401 - shop, registered: fixtures
    PRODUCT_LIST,
    apq_get,
    product_list_document,
    registered,
    shop,
    storefront,
)
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


# --- A response cache answer is its operation's span ------------------------------


def operation_spans(traced, name: str) -> list:
    return [span for span in traced.spans() if span.name == name]


def answered(traced, outcome: str):
    """The one span of an operation the cache answered `outcome`, checked to
    be its request's operation span with no children (nothing ran)."""
    [span] = [span for span in operation_spans(traced, "query ProductList")
              if span.attributes.get("graphql.response_cache") == outcome]
    assert traced.ancestors(span)[-1].name.endswith(" /graphql/")  # the server span
    assert not [s for s in traced.spans() if s.parent and s.parent.span_id == span.context.span_id]
    assert span.end_time >= span.start_time
    return span


@pytest.mark.usefixtures("shop")
def test_a_post_hit_is_a_span_like_the_execution_it_spares(traced, caplog, client):
    body = {"query": storefront(), "variables": PRODUCT_LIST, "operationName": "ProductList"}
    client.request("POST", json=body)
    [executed] = operation_spans(traced, "query ProductList")
    assert "graphql.response_cache" not in executed.attributes
    request_id, line = post_logged(caplog, client, body)
    assert line.response_cache == "hit"

    hit = answered(traced, "hit")
    attributes = dict(hit.attributes)
    assert attributes["graphql.operation.name"] == "ProductList"
    assert attributes["graphql.operation.type"] == "query"
    assert attributes["commerce.cost"] == executed.attributes["commerce.cost"]
    assert attributes["commerce.request_id"] == request_id
    assert "enduser.id" not in attributes  # anonymous
    # The request's line is in the same trace as the hit.
    assert ids_of(line)[0] == ids(hit)[0]


@pytest.mark.usefixtures("shop")
def test_a_signed_in_hit_names_its_user(traced):
    customer = make_user()
    for _ in range(2):
        client_for(customer).execute(storefront(), PRODUCT_LIST, operation_name="ProductList")
    assert answered(traced, "hit").attributes["enduser.id"] == str(customer.pk)


@pytest.mark.usefixtures("registered")
def test_a_get_hit_and_a_304_are_spans_too(traced, caplog, client):
    document = product_list_document()
    etag = apq_get(client, document, PRODUCT_LIST).headers["ETag"]
    hit = answered(traced, "hit")
    assert hit.attributes["graphql.operation.name"] == "ProductList"

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="commerce.requests"):
        revalidated = apq_get(client, document, PRODUCT_LIST, **{"If-None-Match": etag})
    assert revalidated.status_code == 304
    not_modified = answered(traced, "not_modified")
    assert (not_modified.attributes["graphql.operation.name"],
            not_modified.attributes["graphql.operation.type"]) == ("ProductList", "query")
    assert not_modified.attributes["commerce.request_id"] == revalidated.headers["X-Request-ID"]
    [line] = request_lines(caplog)
    assert (line.status, line.operation, line.response_cache) == (304, "ProductList",
                                                                  "not_modified")
