"""Prometheus metrics (commerce.metrics, apps.core.metrics): what requests,
checkouts, webhook deliveries and tasks count, what a scrape reads from the
outbox, who may scrape /metrics, and processes adding up.

The metrics live in the process's registry for its whole life, so each test
compares a sample before and after what it does: no test depends on
another's counts or on their order."""

import hashlib
import importlib
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.db import connection
from django.db.backends.signals import connection_created
from django.test.utils import CaptureQueriesContext
from django.urls import clear_url_caches
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

import commerce.urls
from apps.checkout import services as checkout
from apps.core.errors import ServiceError
from apps.core.models import OutboxEvent
from apps.core.tasks import dispatch_pending_events
from apps.webhooks.delivery import delivery_attempt
from apps.webhooks.models import WebhookDelivery
from commerce import metrics
from tests import contract
from tests.conftest import Client
from tests.test_response_cache import PRODUCT_LIST, apq_get, product_list_document
from tests.factories import ADDRESS, make_cart, make_product, make_shipping_method, make_variant
from tests.webhook_receiver import listening, receiver  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-0123456789"
ROOT = Path(__file__).resolve().parent.parent


def _route_urls() -> None:
    importlib.reload(commerce.urls)
    clear_url_caches()


@pytest.fixture
def metrics_on(settings):
    """METRICS_ENABLED as the server starts with it: /metrics routed, and the
    test's connection counting queries as a newly opened one would."""
    settings.METRICS_ENABLED = True
    settings.METRICS_BEARER_TOKEN = TOKEN
    _route_urls()
    connection_created.send(sender=type(connection), connection=connection)
    yield
    if metrics._count_query in connection.execute_wrappers:
        connection.execute_wrappers.remove(metrics._count_query)
    settings.METRICS_ENABLED = False
    _route_urls()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Counts:
    """Samples read now, to compare with what they are later."""

    def __init__(self, *samples: tuple[str, dict[str, str]]):
        self.samples = samples
        self.before = [sample(name, **labels) for name, labels in samples]

    def added(self) -> list[float]:
        return [sample(name, **labels) - before
                for (name, labels), before in zip(self.samples, self.before, strict=True)]


def scrape(**headers: str) -> dict[str, float]:
    response = Client().request("GET", "/metrics", headers=headers)
    assert response.status_code == 200, response.status_code
    return {f"{s.name}{sorted(s.labels.items())}": s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples}


def product_list(client: Client) -> dict:
    return client.execute(contract.document("storefront/catalog.graphql"), {"first": 10},
                          operation_name="ProductList")


# --- Requests -------------------------------------------------------------------


def test_a_request_is_counted_by_operation_and_outcome_with_its_latency_and_queries(
        metrics_on):
    make_variant(product=make_product(), stock=3)
    labels = {"operation": "ProductList", "outcome": "ok"}
    counts = Counts(("commerce_requests_total", labels),
                    ("commerce_request_duration_seconds_count", labels),
                    ("commerce_request_duration_seconds_sum", labels),
                    ("commerce_request_sql_queries_count", {"operation": "ProductList"}),
                    ("commerce_request_sql_queries_sum", {"operation": "ProductList"}))
    with CaptureQueriesContext(connection) as queries:
        product_list(Client())
    requests, timed, seconds, observed, counted = counts.added()
    assert (requests, timed, observed) == (1, 1, 1)
    assert 0 < seconds < 10
    assert counted == len(queries) > 0


def test_error_codes_are_counted_and_the_outcome_is_error(metrics_on):
    counts = Counts(("commerce_graphql_errors_total", {"code": "UNAUTHENTICATED"}),
                    ("commerce_requests_total", {"operation": "Rename", "outcome": "error"}))
    Client().post('mutation Rename { accountUpdate(input: {firstName: "x"}) { errors { code } } }')
    assert counts.added() == [1, 1]


def test_names_of_documents_that_did_not_validate_are_not_labels(metrics_on):
    counts = Counts(("commerce_requests_total", {"operation": "invalid", "outcome": "error"}),
                    *(("commerce_graphql_errors_total", {"code": code}) for code in (
                        "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED")))
    Client().request("POST", json={"query": "query Attacker1 { noSuchField }"})
    # A syntax error is raised from a hook (schema.extensions.DocumentCache):
    # noted all the same.
    Client().request("POST", json={"query": "query Attacker2 {"})
    assert counts.added() == [2, 1, 1]
    assert sample("commerce_requests_total", operation="Attacker1", outcome="error") == 0


def test_operation_names_past_the_bound_are_other(metrics_on, settings, monkeypatch):
    monkeypatch.setattr(metrics.operation_names, "seen", set())
    settings.METRICS_MAX_OPERATIONS = 1
    counts = Counts(("commerce_requests_total", {"operation": "First", "outcome": "ok"}),
                    ("commerce_requests_total", {"operation": "other", "outcome": "ok"}))
    for name in ("First", "Second", "Third", "First"):
        # (the last one answered by the response cache, which knows the name sent)
        Client().execute(f"query {name} {{ __typename }}", operation_name=name)
    assert counts.added() == [2, 2]


def test_a_response_cache_hit_is_counted(metrics_on):
    make_variant(product=make_product(), stock=3)
    counts = Counts(("commerce_response_cache_hits_total", {"operation": "ProductList"}),
                    ("commerce_request_sql_queries_sum", {"operation": "ProductList"}))
    with CaptureQueriesContext(connection) as queries:
        first = product_list(Client())
    executed = len(queries)  # read now: the next request resets the log
    assert product_list(Client()) == first
    assert counts.added() == [1, executed]  # the hit made no query


def test_a_304_from_an_entry_is_labelled_with_its_operation(metrics_on):
    make_variant(product=make_product(), stock=3)
    client = Client()
    document = product_list_document()
    client.request("POST", json={"query": document, "variables": PRODUCT_LIST, "extensions": {
        "persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(document.encode())
                           .hexdigest()}}})
    etag = apq_get(client, document, PRODUCT_LIST).headers["ETag"]
    counts = Counts(("commerce_requests_total", {"operation": "ProductList", "outcome": "ok"}),
                    ("commerce_requests_total", {"operation": "invalid", "outcome": "ok"}))
    assert apq_get(client, document, PRODUCT_LIST,
                   **{"If-None-Match": etag}).status_code == 304
    assert counts.added() == [1, 0]


def test_with_metrics_off_nothing_is_counted_and_there_is_no_metrics_page():
    counts = Counts(("commerce_requests_total", {"operation": "Off", "outcome": "ok"}))
    connection_created.send(sender=type(connection), connection=connection)
    Client().execute("query Off { __typename }")
    assert counts.added() == [0]
    assert metrics._count_query not in connection.execute_wrappers
    assert Client().request("GET", "/metrics").status_code == 404


# --- Checkouts, webhooks, tasks ---------------------------------------------------


@pytest.fixture
def _dummy_gateway(settings):
    settings.PAYMENT_GATEWAYS = ["dummy"]


def _cart(stock: int, quantity: int):
    variant = make_variant(product=make_product(), price="10.00", stock=stock)
    return make_cart(lines=[(variant, quantity)], email="guest@example.com", address=ADDRESS,
                     shipping_method=make_shipping_method(name="Ground", price="5.00"))


@pytest.mark.usefixtures("_dummy_gateway")
def test_checkouts_are_counted_by_outcome(metrics_on):
    counts = Counts(("commerce_checkouts_total", {"outcome": "completed"}),
                    ("commerce_checkouts_total", {"outcome": "INSUFFICIENT_STOCK"}))
    short = _cart(stock=10, quantity=4)
    short.lines.update(quantity=20)
    with pytest.raises(ServiceError):
        checkout.checkout_complete(user=None, token=short.token, gateway="dummy",
                                   payment_token="success")
    checkout.checkout_complete(user=None, token=_cart(stock=5, quantity=1).token,
                               gateway="dummy", payment_token="success")
    assert counts.added() == [1, 1]


def test_webhook_attempts_are_counted_by_the_status_they_leave(
        metrics_on, receiver, time_machine, settings):  # noqa: F811 - the fixture
    endpoint = listening(receiver, event_types=("order.paid",))
    receiver.answers = [500]
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="order.paid", event_id=uuid.uuid4(), payload={},
        next_attempt_at=timezone.now())
    counts = Counts(*(("commerce_webhook_delivery_attempts_total", {"status": status})
                      for status in ("PENDING", "SUCCEEDED", "FAILED")))
    delivery_attempt(delivery_id=delivery.pk)            # 500: retried later
    time_machine.move_to(timezone.now() + timedelta(hours=1))
    delivery_attempt(delivery_id=delivery.pk)            # taken
    settings.WEBHOOKS_RETRY_FOR = timedelta(0)
    receiver.answers = [503]
    given_up = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="order.paid", event_id=uuid.uuid4(), payload={},
        next_attempt_at=timezone.now())
    delivery_attempt(delivery_id=given_up.pk)            # refused, no time left
    assert counts.added() == [1, 1, 1]


def test_a_task_outcome_is_counted(metrics_on):
    labels = {"task": dispatch_pending_events.name, "state": "SUCCESS"}
    counts = Counts(("commerce_celery_tasks_total", labels),
                    ("commerce_celery_task_duration_seconds_count",
                     {"task": dispatch_pending_events.name}))
    dispatch_pending_events.delay()
    assert counts.added() == [1, 1]


# --- Read at scrape time --------------------------------------------------------


def test_the_outbox_backlog_and_the_age_of_its_oldest_unsent_event(metrics_on, time_machine):
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    OutboxEvent.objects.create(type="Old")
    OutboxEvent.objects.create(type="Sent", sent_at=start)
    time_machine.move_to(start + timedelta(seconds=90), tick=False)
    OutboxEvent.objects.create(type="New")
    time_machine.move_to(start + timedelta(seconds=120), tick=False)
    scraped = scrape()
    assert scraped["commerce_outbox_unsent_events[]"] == 2
    assert scraped["commerce_outbox_oldest_unsent_age_seconds[]"] == 120
    OutboxEvent.objects.update(sent_at=timezone.now())
    scraped = scrape()
    assert (scraped["commerce_outbox_unsent_events[]"],
            scraped["commerce_outbox_oldest_unsent_age_seconds[]"]) == (0, 0)
    # No Redis broker here (eager tasks): no queue length rather than a made-up one.
    assert not any(key.startswith("commerce_celery_queue_length") for key in scraped)


@pytest.mark.redis
def test_the_celery_queue_length_is_read_from_the_broker(metrics_on, settings):
    import redis

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    queue = f"metrics-test-{uuid.uuid4().hex}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.rpush(queue, "a", "b")
    client.rpush(f"{queue}{metrics.PRIORITY_SEPARATOR}6", "c")
    try:
        assert scrape()[f"commerce_celery_queue_length[('queue', '{queue}')]"] == 3
    finally:
        client.delete(queue, f"{queue}{metrics.PRIORITY_SEPARATOR}6")


# --- Who may scrape -------------------------------------------------------------


@pytest.mark.parametrize("address, headers, status", [
    ("127.0.0.1", {}, 200),                                        # the default: loopback
    ("10.9.9.9", {}, 403),                                         # anyone else
    ("10.9.9.9", {"X-Forwarded-For": "127.0.0.1"}, 403),           # not from a trusted proxy
    ("10.9.9.9", {"Authorization": f"Bearer {TOKEN}"}, 200),       # the token, from anywhere
    ("10.9.9.9", {"Authorization": "Bearer wrong"}, 403),
    ("127.0.0.1", {"Authorization": "Bearer wrong"}, 403),         # a wrong token, even here
    ("127.0.0.1", {"Authorization": f"Basic {TOKEN}"}, 403),
])
def test_only_allowed_addresses_and_the_token_may_scrape(metrics_on, address, headers, status):
    response = Client(address=address).request("GET", "/metrics", headers=headers)
    assert response.status_code == status
    if status == 403:
        assert response.content == b""
    else:
        assert b"commerce_outbox_unsent_events" in response.content


def test_addresses_and_networks_are_a_setting(metrics_on, settings):
    settings.METRICS_ALLOWED_ADDRESSES = ["10.0.0.0/8"]
    assert Client(address="10.9.9.9").request("GET", "/metrics").status_code == 200
    assert Client(address="127.0.0.1").request("GET", "/metrics").status_code == 403
    settings.METRICS_BEARER_TOKEN = ""
    response = Client(address="10.9.9.9").request(
        "GET", "/metrics", headers={"Authorization": "Bearer "})
    assert response.status_code == 403  # no token set: none is right


def test_behind_a_trusted_proxy_the_forwarded_address_counts(metrics_on, settings):
    settings.GRAPHQL_TRUSTED_PROXIES = ["10.0.0.1"]
    response = Client(address="10.0.0.1").request(
        "GET", "/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert response.status_code == 200


# --- Processes add up -----------------------------------------------------------

CHILD = """
import django
django.setup()
from apps.core import metrics
metrics.checkout_finished(outcome=metrics.COMPLETED)
metrics.checkout_finished(outcome="PAYMENT_DECLINED")
"""


def test_in_multiprocess_mode_the_processes_counts_add_up(metrics_on, tmp_path, monkeypatch):
    """Two processes (gunicorn's workers) write their own files; a scrape in
    a third adds them up."""
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
                   "METRICS_ENABLED": "1", "DJANGO_SETTINGS_MODULE": "commerce.settings_test"}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", CHILD], env=environment, cwd=ROOT, check=True,
                       timeout=60)
    assert len(list(tmp_path.glob("counter_*.db"))) == 2
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    scraped = scrape()
    assert scraped["commerce_checkouts_total[('outcome', 'completed')]"] == 2
    assert scraped["commerce_checkouts_total[('outcome', 'PAYMENT_DECLINED')]"] == 2
    assert "commerce_outbox_unsent_events[]" in scraped  # and what is read now, once


def test_the_worker_serves_its_tasks_counts_to_whom_the_web_does(metrics_on):
    dispatch_pending_events.delay()
    server = metrics.serve_worker_metrics(port=0, address="127.0.0.1")
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
        answer = httpx.get(url)
        refused = httpx.get(url, headers={"Authorization": "Bearer wrong"})
        with_token = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        server.shutdown()
        server.server_close()
    assert (answer.status_code, refused.status_code, with_token.status_code) == (200, 403, 200)
    assert refused.content == b""
    assert f'commerce_celery_tasks_total{{state="SUCCESS",task="{dispatch_pending_events.name}"}}' \
        in answer.text
    assert "commerce_outbox_unsent_events" not in answer.text  # the web reports it, once
