"""Webhook deliveries end to end, to a receiver the test starts that checks
every signature itself: made after the commit of the change, signed, retried
with backoff by the beat task until the receiver takes them or a day has
passed, sent again by staff, never lost with a worker."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError
from strawberry.relay import to_base64

from apps.accounts.permissions import Perm
from apps.core import events
from apps.core.models import OutboxEvent
from apps.orders.services.transitions import order_transition
from apps.orders.transitions import Move
from apps.webhooks import delivery as delivery_module
from apps.webhooks import services, tasks
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint
from apps.core import request_context
from tests import webhook_receiver
from tests.concurrency import keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import client_for, make_user
from tests.factories import make_webhook
from tests.webhook_receiver import Receiver, listening, placed_order

pytestmark = pytest.mark.django_db

receiver = webhook_receiver.receiver  # the fixture, here

Status = WebhookDelivery.Status

WEBHOOK_CREATE = """
mutation($input: WebhookInput!) {
  webhookCreate(input: $input) {
    webhook { id url secret eventTypes isActive }
    errors { field message code }
  }
}"""

RETRY = """
mutation($id: ID!) {
  webhookDeliveryRetry(id: $id) {
    delivery { id status attempts eventId }
    errors { field message code }
  }
}"""


@pytest.fixture
def start(time_machine):
    """Now, with the clock stopped there; tests move it with time_machine."""
    now = timezone.now()
    time_machine.move_to(now, tick=False)
    return now


@pytest.fixture
def apps_staff():
    return client_for(make_user(perms=[Perm.MANAGE_APPS]))


def register(client, receiver: Receiver, *event_types: str) -> WebhookEndpoint:
    """Through the API, as an integrator's admin would; the receiver learns
    the secret from the answer."""
    answer = client.execute(WEBHOOK_CREATE, {"input": {
        "url": receiver.url, "eventTypes": list(event_types)}})["webhookCreate"]
    assert answer["errors"] == []
    receiver.secret = answer["webhook"]["secret"]
    return WebhookEndpoint.objects.get(url=receiver.url)


def paid_with_the_task_lost(monkeypatch, callbacks) -> None:
    """The broker took the first attempt's task, and the worker lost it."""
    with monkeypatch.context() as patched:
        patched.setattr(tasks.deliver_webhook, "delay", lambda delivery_id: None)
        pay(placed_order(), callbacks)


def pay(order, callbacks) -> None:
    """Pay the order in a transaction of its own, run what its commit
    starts, and check that nothing left before the commit."""
    with callbacks(execute=True):
        with transaction.atomic():
            order_transition(order=order, move=Move.PAY)
            assert not WebhookDelivery.objects.exists()


def sweep() -> int:
    """What beat runs every WEBHOOKS_RETRY_BASE (Celery is eager here)."""
    return tasks.retry_due_webhooks()


def test_an_order_paid_is_delivered_signed_after_the_commit(
    apps_staff, receiver, django_capture_on_commit_callbacks
):
    endpoint = register(apps_staff, receiver, "ORDER_PAID")
    assert endpoint.secret.startswith("whsec_")
    order = placed_order()

    pay(order, django_capture_on_commit_callbacks)

    [request] = receiver.requests
    assert request.signed, request.headers
    assert request.path == "/hooks/shop"
    assert request.headers["content-type"] == "application/json"
    body = request.json
    assert body["type"] == "order.paid"
    assert body["timestamp"].endswith("Z")
    data = body["data"]
    assert data["id"] == to_base64("Order", order.pk)
    assert (data["number"], data["status"], data["paymentStatus"]) == (
        order.number, "PROCESSING", "PAID")
    assert data["total"] == {"amount": str(order.total), "currency": "USD"}
    assert data["lines"][0]["sku"] == order.lines.get().sku
    assert data["lines"][0]["quantity"] == 2
    assert data["lines"][0]["unitPrice"] == {"amount": "12.50", "currency": "USD"}

    delivery = WebhookDelivery.objects.get()
    event = OutboxEvent.objects.get(type="OrderChanged")
    assert request.webhook_id == str(delivery.event_id) == str(event.pk)
    assert (delivery.status, delivery.attempts, delivery.last_response_status,
            delivery.last_error, delivery.next_attempt_at) == (Status.SUCCEEDED, 1, 200, "", None)
    assert delivery.payload == body


def test_a_delivery_carries_the_id_of_the_request_that_made_the_change(
    receiver, django_capture_on_commit_callbacks
):
    listening(receiver, path="/paid", event_types=("order.paid",))
    with request_context.serving("checkout-77"):
        pay(placed_order(), django_capture_on_commit_callbacks)
    [request] = receiver.requests
    assert request.headers["x-request-id"] == "checkout-77"


def test_nothing_is_delivered_when_the_change_rolls_back(
    apps_staff, receiver, django_capture_on_commit_callbacks
):
    register(apps_staff, receiver, "ORDER_PAID")
    order = placed_order()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            order_transition(order=order, move=Move.PAY)
            raise RuntimeError("something after the payment failed")
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()


def test_only_active_endpoints_that_asked_for_the_type_are_told(
    receiver, django_capture_on_commit_callbacks
):
    make_webhook(url=receiver.url + "/shipped", event_types=("order.shipped",))
    make_webhook(url=receiver.url + "/off", event_types=("order.paid",), is_active=False)
    wanted = listening(receiver, path="/paid", event_types=("order.paid",))
    pay(placed_order(), django_capture_on_commit_callbacks)
    assert [r.path for r in receiver.requests] == ["/hooks/shop/paid"]
    assert all(r.signed for r in receiver.requests)
    assert list(WebhookDelivery.objects.values_list("endpoint", flat=True)) == [wanted.pk]


def test_a_refusal_is_retried_with_backoff_until_the_receiver_takes_it(
    apps_staff, receiver, start, time_machine, django_capture_on_commit_callbacks
):
    register(apps_staff, receiver, "ORDER_PAID")
    receiver.answers = [500, 503]

    pay(placed_order(), django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_response_status) == (
        Status.PENDING, 1, 500)
    assert delivery.last_error == "HTTP 500: receiver trouble"
    assert delivery.next_attempt_at == start + timedelta(seconds=30)

    time_machine.move_to(start + timedelta(seconds=29), tick=False)
    assert sweep() == 0 and len(receiver.requests) == 1  # not due yet

    time_machine.move_to(start + timedelta(seconds=30), tick=False)
    assert sweep() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_status) == (
        Status.PENDING, 2, 503)
    assert delivery.next_attempt_at == start + timedelta(seconds=30 + 60)  # doubled

    time_machine.move_to(start + timedelta(seconds=90), tick=False)
    assert sweep() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_status,
            delivery.last_error) == (Status.SUCCEEDED, 3, 200, "")
    assert sweep() == 0

    # Every attempt signed afresh over the same body, under the same id.
    assert [r.signed for r in receiver.requests] == [True, True, True]
    assert len({r.webhook_id for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    assert [r.timestamp - int(start.timestamp()) for r in receiver.requests] == [0, 30, 90]


def test_it_gives_up_after_a_day(
    receiver, start, time_machine, django_capture_on_commit_callbacks
):
    listening(receiver)
    receiver.answers = [500] * 100
    pay(placed_order(), django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    while delivery.status == Status.PENDING:
        time_machine.move_to(delivery.next_attempt_at, tick=False)
        sweep()
        delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and delivery.next_attempt_at is None
    # 30 s doubling: the 12th attempt is 17 h 4 min in; the 13th would be past the day.
    assert delivery.attempts == len(receiver.requests) == 12
    assert delivery.last_attempt_at - start == timedelta(seconds=30 * (2**11 - 1))
    time_machine.move_to(start + timedelta(days=2), tick=False)
    assert sweep() == 0


def test_a_network_error_is_recorded_and_retried(
    receiver, django_capture_on_commit_callbacks
):
    listening(receiver)
    receiver.stop()  # nobody listens there now
    pay(placed_order(), django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_response_status) == (
        Status.PENDING, 1, None)
    assert delivery.last_error.startswith("ConnectError")


def test_a_lost_task_is_picked_up_by_the_sweep(
    receiver, monkeypatch, start, django_capture_on_commit_callbacks
):
    """The broker took the task and the worker died with it: the delivery is
    due, and the next sweep sends it."""
    listening(receiver)
    paid_with_the_task_lost(monkeypatch, django_capture_on_commit_callbacks)
    assert receiver.requests == []
    assert sweep() == 1
    assert len(receiver.requests) == 1 and receiver.requests[0].signed
    assert WebhookDelivery.objects.get().status == Status.SUCCEEDED


def test_an_attempt_under_way_is_not_made_twice_and_one_that_died_is_made_again(
    receiver, start, time_machine, django_capture_on_commit_callbacks, monkeypatch
):
    listening(receiver)
    paid_with_the_task_lost(monkeypatch, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    # A worker claims it, then dies before it answers.
    assert delivery_module._claim(delivery.pk, start) is not None
    assert delivery_module.delivery_attempt(delivery_id=delivery.pk) is None
    assert sweep() == 0 and receiver.requests == []
    # Its hold (the timeout and a minute) runs out: the sweep makes the attempt.
    time_machine.move_to(start + timedelta(seconds=70), tick=False)
    assert sweep() == 1 and len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == Status.SUCCEEDED


@pytest.mark.usefixtures("keeps_default_warehouse")
@pytest.mark.django_db(transaction=True)
def test_a_broker_down_at_the_commit_delays_the_delivery_only(
    receiver, monkeypatch, settings, start, time_machine
):
    """For real commits (the test's own transaction would hold the enqueue
    back until it ends): the rows commit, the enqueue fails, the event stays
    unsent, and its dispatch again enqueues the same delivery."""
    listening(receiver)
    order = placed_order()

    def down(delivery_id):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    with monkeypatch.context() as patched:
        patched.setattr(tasks.deliver_webhook, "delay", down)
        order_transition(order=order, move=Move.PAY)
    event = OutboxEvent.objects.get(type="OrderChanged")
    assert event.sent_at is None and "Connection refused" in event.last_error
    assert WebhookDelivery.objects.get().status == Status.PENDING
    assert receiver.requests == []

    time_machine.move_to(start + settings.EVENTS_RETRY_AFTER, tick=False)
    assert events.dispatch_pending() == 1
    assert WebhookDelivery.objects.count() == 1
    assert len(receiver.requests) == 1 and receiver.requests[0].signed
    assert WebhookDelivery.objects.get().status == Status.SUCCEEDED
    assert sweep() == 0


def test_an_address_that_turned_private_is_not_sent_to(
    receiver, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """Registered while public; its name now resolves to the private
    network (DNS rebinding): each attempt checks again."""
    receiver.secret = make_webhook(url="https://erp.example.com/hooks").secret
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    monkeypatch.setattr(services, "resolve", lambda host, port: ["10.0.0.7"])
    pay(placed_order(), django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.PENDING and delivery.last_response_status is None
    assert delivery.last_error.startswith("Not sent: The host erp.example.com is at 10.0.0.7")


def test_staff_send_a_delivery_again(
    apps_staff, receiver, django_capture_on_commit_callbacks
):
    register(apps_staff, receiver, "ORDER_PAID")
    pay(placed_order(), django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    delivery_id = to_base64("WebhookDelivery", delivery.pk)

    with django_capture_on_commit_callbacks(execute=True):
        answer = apps_staff.execute(RETRY, {"id": delivery_id})["webhookDeliveryRetry"]
    assert answer["errors"] == []
    assert answer["delivery"] == {"id": delivery_id, "status": "PENDING", "attempts": 1,
                                  "eventId": str(delivery.event_id)}
    first, again = receiver.requests
    assert again.signed and again.body == first.body and again.webhook_id == first.webhook_id
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SUCCEEDED, 2)
    assert OutboxEvent.objects.filter(type="WebhookDeliveryRetried").count() == 1


def test_a_failed_delivery_sent_again_succeeds(
    receiver, start, time_machine, django_capture_on_commit_callbacks
):
    listening(receiver)
    receiver.answers = [500]
    pay(placed_order(), django_capture_on_commit_callbacks)
    WebhookDelivery.objects.update(status=Status.FAILED, next_attempt_at=None)
    delivery = WebhookDelivery.objects.get()
    time_machine.move_to(start + timedelta(days=3), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_delivery_retry(actor=None, delivery=delivery)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_status) == (
        Status.SUCCEEDED, 2, 200)


def test_sending_again_to_an_inactive_webhook_or_an_unknown_delivery_is_refused(apps_staff):
    endpoint = make_webhook(is_active=False)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="order.paid", event_id="6f1c1bde-6c1e-4b53-a3d4-"
        "5a4d4c3b2a10", payload={}, status=Status.FAILED)
    answer = apps_staff.execute(
        RETRY, {"id": to_base64("WebhookDelivery", delivery.pk)})["webhookDeliveryRetry"]
    assert answer["delivery"] is None
    assert [(e["field"], e["code"]) for e in answer["errors"]] == [("id", "INVALID")]
    assert "inactive" in answer["errors"][0]["message"]
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED

    answer = apps_staff.execute(
        RETRY, {"id": to_base64("WebhookDelivery", 999_999)})["webhookDeliveryRetry"]
    assert [(e["field"], e["code"]) for e in answer["errors"]] == [("id", "NOT_FOUND")]
