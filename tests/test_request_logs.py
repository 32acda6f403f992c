"""One log line per request and per task, and the request id that ties a
request to the tasks and webhook deliveries it starts (apps.core.request_context,
commerce.middleware.RequestLogMiddleware, commerce.celery)."""

import json
import logging
import logging.config
import re
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.core import mail

from apps.core import request_context
from commerce import celery as celery_app
from tests.conftest import Client, client_for, make_user

pytestmark = pytest.mark.django_db

PRODUCTS = "query Cards { products(first: 2) { edges { node { name } } } }"
GENERATED = re.compile(r"[0-9a-f]{32}")


def request_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "commerce.requests"]


def test_a_request_gets_an_id_and_one_line_with_its_operation(caplog):
    customer = make_user()
    with caplog.at_level(logging.INFO, logger="commerce.requests"):
        response = client_for(customer).request("POST", json={"query": PRODUCTS})
    request_id = response.headers["X-Request-ID"]
    assert GENERATED.fullmatch(request_id)
    [line] = request_lines(caplog)
    assert (line.method, line.path, line.status) == ("POST", "/graphql/", 200)
    assert (line.operation, line.operation_type, line.user_id) == ("Cards", "query", customer.pk)
    assert line.cost > 0 and line.duration_ms > 0
    assert not hasattr(line, "error_codes")


def test_the_line_has_the_error_codes_and_no_user_when_anonymous(caplog):
    with caplog.at_level(logging.INFO, logger="commerce.requests"):
        Client().request("POST", json={"query": "mutation Rename { accountUpdate(input: {firstName: \"x\"}) { errors { code } } }"})
    [line] = request_lines(caplog)
    assert line.error_codes == ["UNAUTHENTICATED"]
    assert not hasattr(line, "user_id")


def test_a_refused_request_has_its_line_and_id_too(caplog):
    with caplog.at_level(logging.INFO, logger="commerce.requests"):
        response = Client().request("POST", content=b"{", headers={
            "content-type": "application/json"})
    assert response.status_code == 400
    [line] = request_lines(caplog)
    assert line.status == 400 and GENERATED.fullmatch(response.headers["X-Request-ID"])


@pytest.mark.parametrize("sent, trusted, kept", [
    ("edge-7f3a.42", True, True),
    ("edge-7f3a.42", False, False),           # anyone can send the header
    ("x" * 129, True, False),                 # oversized
    ("two words", True, False),               # malformed
    ('"quoted"', True, False),
])
def test_a_trusted_proxys_well_formed_id_is_kept(settings, sent, trusted, kept):
    settings.GRAPHQL_TRUSTED_PROXIES = ["10.0.0.0/8"] if trusted else []
    client = Client(address="10.1.2.3")
    answered = client.request("POST", json={"query": PRODUCTS},
                              headers={"X-Request-ID": sent}).headers["X-Request-ID"]
    if kept:
        assert answered == sent
    else:
        assert answered != sent and GENERATED.fullmatch(answered)


@pytest.mark.django_db(transaction=True)
def test_the_tasks_of_a_request_log_with_its_id(caplog):
    """Committed for real, so the commit's tasks run inside the request, as
    they do in production (eagerly here; a worker gets the id in the task's
    message, below)."""
    make_user(email="ada@example.com")
    with caplog.at_level(logging.INFO):
        response = Client().request("POST", json={
            "query": 'mutation { passwordResetRequest(email: "ada@example.com") { errors { code } } }'})
    request_id = response.headers["X-Request-ID"]
    assert len(mail.outbox) == 1
    tasks = [r for r in caplog.records if r.name == "commerce.tasks"]
    assert tasks and {r.state for r in tasks} == {"SUCCESS"}
    # The console handler's filter gave each line the id current when written.
    assert {getattr(r, "request_id", None) for r in tasks} == {request_id}


def test_a_task_message_carries_the_id_to_the_worker():
    headers: dict = {}
    with request_context.serving("req-1"):
        celery_app._send_request_id(headers=headers)
    assert headers == {"request_id": "req-1"}
    # In the worker: the task is served under the id its message carried.
    task = SimpleNamespace(name="t", request=SimpleNamespace(request_id="req-1"))
    celery_app._task_started(task_id="abc", task=task)
    try:
        assert request_context.current_request_id() == "req-1"
    finally:
        celery_app._task_finished(task_id="abc", task=task, state="SUCCESS")
    assert request_context.current_request_id() == ""
    # A malformed id in a message is replaced, as at the HTTP edge.
    task.request.request_id = "no spaces please"
    celery_app._task_started(task_id="def", task=task)
    try:
        assert GENERATED.fullmatch(request_context.current_request_id())
    finally:
        celery_app._task_finished(task_id="def", task=task, state="SUCCESS")


def json_line(record: logging.LogRecord) -> dict:
    """`record` as the console handler writes it with LOG_FORMAT=json."""
    config = django_settings.LOGGING
    formatter = logging.config.DictConfigurator(config).configure_formatter(
        dict(config["formatters"]["json"]))
    return json.loads(formatter.format(record))


def test_json_lines_carry_the_request_id():
    record = logging.LogRecord("commerce.requests", logging.INFO, __file__, 1,
                               "POST %s", ("/graphql/",), None)
    record.operation = "Cards"
    with request_context.serving("req-9"):
        request_context.RequestIdFilter().filter(record)
    line = json_line(record)
    assert (line["message"], line["request_id"], line["operation"], line["level"],
            line["logger"]) == ("POST /graphql/", "req-9", "Cards", "INFO", "commerce.requests")
    assert "time" in line
    assert "trace_id" not in line and "span_id" not in line  # traces off
