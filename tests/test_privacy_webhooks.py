"""What the webhooks' log keeps of a person once their account is deleted
(accountDelete) or their old order's record is anonymised: the deliveries
about their orders stay, their bodies and a refusal's echo without the
person; those still pending go out so, later ones are made so, and other
customers' deliveries are untouched."""

import importlib
import json
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.utils import timezone

from apps.accounts.permissions import Perm
from apps.core import events
from apps.core.erased import is_erased
from apps.orders.models import Order
from apps.privacy import erasure, links, services, tasks
from apps.webhooks import payloads, tasks as webhook_tasks
from apps.webhooks import services as webhooks
from apps.webhooks.models import WebhookDelivery
from tests import webhook_receiver
from tests.concurrency import keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import client_for, make_user
from tests.factories import make_order, make_product, make_variant, make_webhook
from tests.test_privacy_delete import delete
from tests.test_privacy_export import _shop, customer_with_data  # noqa: F401 - _shop: autouse
from tests.webhook_receiver import listening

pytestmark = pytest.mark.django_db

receiver = webhook_receiver.receiver  # the fixture, here

DELIVERIES = """
query { webhookDeliveries(first: 50) { edges { node { eventType payload lastError } } } }"""
PHONE = "+44 20 7946 0018"
ERASED_ADDRESS = {key: "" for key in payloads.ADDRESS_FIELDS} | {"country": "GB"}


def told(event: events.Event, callbacks) -> None:
    with callbacks(execute=True):
        events.publish(event)


def changed(order: Order, kind: str) -> events.OrderChanged:
    return events.OrderChanged(order_id=order.pk, event_type=kind, actor_id=None)


def customer(marker: str) -> tuple:
    """A customer with a delivered order whose snapshot has every field."""
    user = customer_with_data(marker)
    Order.objects.filter(user=user).update(shipping_phone=PHONE, shipping_company=f"{marker} Ltd")
    return user, Order.objects.get(user=user)


def assert_no_person(text: str, marker: str) -> None:
    for value in (f"{marker}@example.com", '"Ada"', "Lovelace", f"2 {marker} Road",
                  f"{marker} Ltd", "London", "N1 7AA", PHONE):
        assert value not in text, (value, text)


def assert_erased(delivery: WebhookDelivery, order: Order, marker: str) -> None:
    assert_no_person(json.dumps(delivery.payload) + delivery.last_error, marker)
    data = delivery.payload["data"]
    assert data["email"] == order.email and is_erased(order.email)
    assert data["shippingAddress"] == ERASED_ADDRESS
    assert data["number"] == order.number and data["lines"][0]["quantity"] == 1  # the rest stays


def test_a_deletion_erases_the_person_from_the_deliveries_of_their_orders(
        receiver, django_capture_on_commit_callbacks, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    callbacks = django_capture_on_commit_callbacks
    listening(receiver, event_types=("order.created", "order.delivered", "order.refunded"))
    ada, ada_order = customer("ada")
    grace, grace_order = customer("grace")
    told(events.OrderPlaced(order_id=ada_order.pk), callbacks)
    told(events.OrderPlaced(order_id=grace_order.pk), callbacks)
    # One refused by a receiver that echoes what it was sent: still pending.
    receiver.echo, receiver.answers = True, [500]
    told(changed(ada_order, "DELIVERED"), callbacks)
    pending = WebhookDelivery.objects.get(event_type="order.delivered")
    assert pending.status == WebhookDelivery.Status.PENDING
    assert "ada@example.com" in pending.last_error
    theirs = WebhookDelivery.objects.get(order=grace_order)
    assert theirs.payload["data"]["email"] == "grace@example.com"

    with callbacks(execute=True):
        assert delete(links.delete_token(ada)) == {"deleted": True, "errors": []}

    ada_order.refresh_from_db()
    erased = list(WebhookDelivery.objects.filter(order=ada_order).order_by("pk"))
    assert [d.event_type for d in erased] == ["order.created", "order.delivered"]
    for delivery in erased:
        assert_erased(delivery, ada_order, "ada")
    pending.refresh_from_db()
    assert (pending.last_error, pending.last_response_status) == ("HTTP 500", 500)
    # The other customer's delivery is as it was.
    untouched = WebhookDelivery.objects.get(order=grace_order)
    assert (untouched.payload, untouched.updated_at) == (theirs.payload, theirs.updated_at)
    # Staff reading the log see no trace of her either.
    log = client_for(make_user(perms=[Perm.MANAGE_APPS])).execute(DELIVERIES)
    nodes = [edge["node"] for edge in log["webhookDeliveries"]["edges"]]
    hers = [n for n in nodes if n["payload"]["data"]["id"] == payloads.global_id(
        "Order", ada_order.pk)]
    assert len(hers) == 2 and len(nodes) == 3
    assert_no_person(json.dumps(hers), "ada")
    assert "grace@example.com" in json.dumps([n for n in nodes if n not in hers])

    # The pending one goes out erased.
    time_machine.shift(timedelta(minutes=5))
    sent = len(receiver.requests)
    assert webhook_tasks.retry_due_webhooks() == 1
    [retried] = receiver.requests[sent:]
    assert retried.signed and retried.json == pending.payload
    assert_no_person(retried.body.decode(), "ada")
    pending.refresh_from_db()
    assert pending.status == WebhookDelivery.Status.SUCCEEDED

    # A later event about the kept order (a refund) tells of no person.
    told(changed(ada_order, "REFUNDED"), callbacks)
    refunded = WebhookDelivery.objects.get(event_type="order.refunded")
    assert refunded.order_id == ada_order.pk
    assert_erased(refunded, ada_order, "ada")
    assert_no_person(receiver.requests[-1].body.decode(), "ada")


def test_the_retention_erases_the_deliveries_of_old_orders(
        settings, receiver, django_capture_on_commit_callbacks, time_machine):
    settings.ORDER_RECORDS_RETENTION_DAYS = 30
    time_machine.move_to(timezone.now(), tick=False)
    listening(receiver, event_types=("order.created",))
    variant = make_variant(product=make_product(), stock=10)
    delivered = dict(status="DELIVERED", payment_status="PAID")
    old = make_order(lines=[(variant, 1)], email="old-guest@example.com",
                     created_at=timezone.now() - timedelta(days=31), **delivered)
    new = make_order(lines=[(variant, 1)], email="new-guest@example.com", **delivered)
    for order in (old, new):
        told(events.OrderPlaced(order_id=order.pk), django_capture_on_commit_callbacks)
    kept = WebhookDelivery.objects.get(order=new).payload

    assert tasks.anonymise_old_order_records() == 1
    old.refresh_from_db()
    delivery = WebhookDelivery.objects.get(order=old)
    assert "old-guest@example.com" not in json.dumps(delivery.payload)
    assert delivery.payload["data"]["email"] == old.email and is_erased(old.email)
    assert delivery.payload["data"]["shippingAddress"] == ERASED_ADDRESS
    assert WebhookDelivery.objects.get(order=new).payload == kept
    assert kept["data"]["email"] == "new-guest@example.com"


def test_erasing_no_orders_rewrites_nothing():
    endpoint = make_webhook()
    order = make_order(lines=[(make_variant(product=make_product(), stock=5), 1)])
    WebhookDelivery.objects.create(endpoint=endpoint, event_type="order.paid",
                                   event_id=uuid.uuid4(), order=order,
                                   payload={"type": "order.paid",
                                            "data": payloads.order_data(order.pk)})
    assert webhooks.deliveries_erase(order_ids=[]) == 0
    assert WebhookDelivery.objects.get().payload["data"]["email"] == order.email


def test_the_migration_names_the_orders_of_the_deliveries_made_before_it():
    migration = importlib.import_module("apps.webhooks.migrations.0003_delivery_order")
    endpoint = make_webhook()
    order = make_order(lines=[(make_variant(product=make_product(), stock=5), 1)])

    def made(event_type: str, data: dict) -> WebhookDelivery:
        return WebhookDelivery.objects.create(
            endpoint=endpoint, event_type=event_type, event_id=uuid.uuid4(),
            payload={"type": event_type, "data": data})

    about_it = made("order.paid", {"id": payloads.global_id("Order", order.pk)})
    gone = made("order.paid", {"id": payloads.global_id("Order", order.pk + 1000)})
    garbled = made("order.shipped", {"id": "not base64!"})
    product = made("product.created", {"id": payloads.global_id("Product", order.pk)})

    migration.name_the_orders(django_apps, None)
    named = dict(WebhookDelivery.objects.values_list("pk", "order_id"))
    assert named == {about_it.pk: order.pk, gone.pk: None, garbled.pk: None, product.pk: None}


@pytest.mark.postgresql
@pytest.mark.usefixtures("keeps_default_warehouse", "transactional_db")
def test_a_delivery_made_during_the_deletion_is_made_from_the_erased_order(monkeypatch):
    """The deletion holds the order's lock from before it erases the log to
    its commit: a delivery made meanwhile waits, then reads the order erased."""
    make_webhook(event_types=("order.delivered",))
    ada, order = customer("ada")
    locked = threading.Event()

    def pause(user) -> None:
        locked.set()
        time.sleep(0.5)  # the delivery below is asked for meanwhile

    at = erasure.ERASERS.index(erasure.erase_webhook_deliveries) + 1
    monkeypatch.setattr(erasure, "ERASERS", [*erasure.ERASERS[:at], pause,
                                             *erasure.ERASERS[at:]])
    made: dict = {}

    def deliver() -> None:
        try:
            assert locked.wait(10)
            started = time.monotonic()
            webhooks.deliveries_create(event_id=uuid.uuid4(), event=changed(order, "DELIVERED"))
            made["waited"] = time.monotonic() - started
        finally:
            connection.close()

    thread = threading.Thread(target=deliver)
    thread.start()
    try:
        assert services.account_delete(token=links.delete_token(ada)) == ada.pk
    finally:
        thread.join()
    order.refresh_from_db()
    delivery = WebhookDelivery.objects.get(order=order)
    assert made["waited"] > 0.2, made
    assert_erased(delivery, order, "ada")
