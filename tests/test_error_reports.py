"""Error reports (commerce.error_reports): Sentry, with a transport that
keeps the events instead of sending them. Each INTERNAL_SERVER_ERROR and
each task that fails for good is one event, tagged with the request id and
the operation, with no token, email or password in it; the client's own
errors are not reported."""

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from apps.accounts import selectors
from apps.notifications import tasks
from commerce import error_reports
from tests.conftest import Client, client_for, make_user, token_for

ADA = "ada@example.com"
ME = "query Me { me { id email } }"


class Kept(Transport):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.events.extend(item.payload.json for item in envelope.items
                           if item.type == "event" and item.payload.json)


@pytest.fixture
def reports() -> Iterator[Kept]:
    kept = Kept()
    assert error_reports.setup(dsn="https://public@sentry.invalid/1", transport=kept)
    try:
        yield kept
    finally:
        error_reports.stop()


def broken_selector(monkeypatch) -> None:
    def broken(**kwargs: Any):
        raise RuntimeError(f"no row for {ADA}")

    monkeypatch.setattr(selectors, "user_as_queryset", broken)


@pytest.mark.django_db
def test_an_internal_server_error_is_reported_once_with_its_request_and_operation(
        reports, monkeypatch):
    ada = make_user(email=ADA, password="correct-horse-battery")
    broken_selector(monkeypatch)
    token = token_for(ada)
    response = client_for(ada).request("POST", json={"query": ME, "variables": {"email": ADA}})
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"

    [event] = reports.events
    assert event["tags"]["request_id"] == response.headers["X-Request-ID"]
    assert event["tags"]["operation"] == "Me"
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError" and exception["stacktrace"]["frames"]
    sent = json.dumps(event)
    assert ADA not in sent and token not in sent and "correct-horse" not in sent


@pytest.mark.django_db
def test_the_clients_own_errors_are_not_reported(reports):
    answer = Client().request("POST", json={
        "query": 'mutation { accountUpdate(input: {firstName: "x"}) { errors { code } } }'}).json()
    assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    Client().request("POST", json={"query": "{ nope }"})
    assert reports.events == []


@pytest.mark.django_db
def test_a_task_that_fails_is_reported_once(reports, monkeypatch):
    """A task whose error is not retried (an OSError would be, until
    NOTIFICATIONS_MAX_RETRIES): one event, with the task's name."""
    ada = make_user(email=ADA)

    def broken(*args: Any, **kwargs: Any):
        raise LookupError(f"template missing for {ADA}")

    monkeypatch.setattr(tasks.delivery, "send", broken)
    with pytest.raises(LookupError):
        tasks.send_password_reset_email.delay("a1b2c3d4-0000-4000-8000-000000000000", ada.pk)
    [event] = reports.events
    assert event["extra"]["celery-job"]["task_name"] == tasks.send_password_reset_email.name
    assert event["tags"]["request_id"]
    assert ADA not in json.dumps(event)


@pytest.mark.django_db(transaction=True)
def test_a_task_a_request_started_fails_once_in_the_reports(reports, monkeypatch):
    """Eager (no REDIS_URL), the task fails inside the outbox's dispatch,
    which logs the failure and keeps the event to retry: still one report,
    the task's, with the request's id."""
    make_user(email=ADA)

    def broken(*args: Any, **kwargs: Any):
        raise LookupError("template missing")

    monkeypatch.setattr(tasks.delivery, "send", broken)
    response = Client().request("POST", json={
        "query": 'mutation Forgot { passwordResetRequest(email: "' + ADA + '") '
                 '{ errors { code } } }'})
    assert response.status_code == 200
    [event] = reports.events
    assert event["exception"]["values"][-1]["type"] == "LookupError"
    assert event["tags"]["request_id"] == response.headers["X-Request-ID"]
    assert event["extra"]["celery-job"]["task_name"] == tasks.send_password_reset_email.name


@pytest.mark.django_db
def test_retries_are_not_reported_only_the_last_failure(reports, monkeypatch):
    """The notifications' tasks retry an OSError: each attempt but the last
    ends in Celery's Retry, which is not a failure; the last, once its
    retries are spent, ends in the error itself, reported once."""
    from celery.exceptions import Retry

    ada = make_user(email=ADA)

    def unreachable(*args: Any, **kwargs: Any):
        raise ConnectionRefusedError("the mail server is down")

    monkeypatch.setattr(tasks.delivery, "send", unreachable)
    task = tasks.send_password_reset_email
    arguments = ("a1b2c3d4-0000-4000-8000-000000000001", ada.pk)
    with pytest.raises(Retry):
        task.apply(arguments, retries=0)
    assert reports.events == []
    with pytest.raises(ConnectionRefusedError):
        task.apply(arguments, retries=task.max_retries)
    [event] = reports.events
    assert event["exception"]["values"][-1]["type"] == "ConnectionRefusedError"


def test_a_collector_that_is_down_is_not_an_error_report(reports):
    logging.getLogger("opentelemetry.exporter.otlp.proto.http.trace_exporter").error(
        "Failed to export spans batch due to timeout, max retries or shutdown.")
    assert reports.events == []


def test_scrubbing_filters_credentials_and_emails():
    event = {"request": {"headers": {"Authorization": "Bearer abc.def", "Accept": "*/*"},
                         "data": {"variables": {"email": ADA}}},
             "breadcrumbs": {"values": [{"message": f"sent to {ADA} with Bearer abc.def"}]},
             "extra": {"refresh_token": "r-123", "pairs": [["X-Api-Key", "k"]]}}
    scrubbed = error_reports._scrubbed(event)
    assert scrubbed["request"]["headers"] == {"Authorization": "[Filtered]", "Accept": "*/*"}
    assert scrubbed["request"]["data"] == {"variables": "[Filtered]"}
    assert scrubbed["breadcrumbs"]["values"][0]["message"] == "sent to [Filtered] with [Filtered]"
    assert scrubbed["extra"] == {"refresh_token": "[Filtered]", "pairs": [["X-Api-Key",
                                                                          "[Filtered]"]]}


def test_reports_are_off_without_a_dsn(settings):
    settings.SENTRY_DSN = ""
    assert error_reports.setup() is False
