"""What each kind of event tells a webhook: the body's type and data for
orders, products and stock, one delivery per endpoint however often an event
is dispatched, and signatures as the specification's own example has them."""

from decimal import Decimal

import pytest
from strawberry.relay import to_base64

from apps.catalog import services as catalog
from apps.core import events
from apps.inventory import services as inventory
from apps.webhooks import services, signing
from apps.webhooks.models import WebhookDelivery
from tests import webhook_receiver
from tests.factories import make_product, make_variant
from tests.webhook_receiver import listening, placed_order

pytestmark = pytest.mark.django_db

receiver = webhook_receiver.receiver  # the fixture, here


def deliver(event, django_capture_on_commit_callbacks) -> dict:
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(event)
    return WebhookDelivery.objects.latest("created_at").payload


def test_the_order_events(receiver, django_capture_on_commit_callbacks):
    listening(receiver, event_types=(
        "order.created", "order.shipped", "order.delivered", "order.cancelled",
        "order.refunded"))
    order = placed_order()
    sent = [
        deliver(events.OrderPlaced(order_id=order.pk), django_capture_on_commit_callbacks),
        *(deliver(events.OrderChanged(order_id=order.pk, event_type=kind, actor_id=None),
                  django_capture_on_commit_callbacks)
          for kind in ("FULFILLED", "DELIVERED", "CANCELLED", "REFUNDED", "NOTE",
                       "PAYMENT_FAILED")),
    ]
    assert [body["type"] for body in sent][:5] == [
        "order.created", "order.shipped", "order.delivered", "order.cancelled",
        "order.refunded"]
    assert WebhookDelivery.objects.count() == 5  # a note, a failed payment: nothing
    assert [r.json["type"] for r in receiver.requests] == [body["type"] for body in sent[:5]]
    assert all(r.signed for r in receiver.requests)


def test_the_product_and_stock_events(receiver, django_capture_on_commit_callbacks):
    listening(receiver, event_types=("product.published", "product.deleted", "stock.low"))
    product = make_product(name="Oud candle", slug="oud-candle")
    variant = make_variant(product=product, sku="OUD-1", price="30.00", stock=2,
                           low_stock_threshold=3)
    published = deliver(events.ProductPublished(product_id=product.pk, actor_id=None),
                        django_capture_on_commit_callbacks)
    assert published["type"] == "product.published"
    assert published["data"]["id"] == to_base64("Product", product.pk)
    assert (published["data"]["slug"], published["data"]["isDeleted"]) == ("oud-candle", False)
    assert published["data"]["variants"] == [{
        "id": to_base64("ProductVariant", variant.pk), "sku": "OUD-1", "name": "",
        "price": {"amount": "30.00", "currency": "USD"}}]

    low = deliver(events.StockFellLow(variant_id=variant.pk), django_capture_on_commit_callbacks)
    assert low["type"] == "stock.low"
    assert low["data"]["variant"]["sku"] == "OUD-1"
    assert (low["data"]["quantityAvailable"], low["data"]["lowStockThreshold"]) == (2, 3)

    deliver(events.ProductUnpublished(product_id=product.pk, actor_id=None),
            django_capture_on_commit_callbacks)  # not asked for
    assert WebhookDelivery.objects.count() == 2
    assert [r.json["type"] for r in receiver.requests] == ["product.published", "stock.low"]


def test_the_catalog_change_events_from_the_writes_that_make_them(
        receiver, django_capture_on_commit_callbacks):
    """product.created, product.updated, category.changed and stock.changed,
    each made by a real write and received, signed, by the endpoint."""
    listening(receiver, event_types=("product.created", "product.updated", "category.changed",
                                     "stock.changed"))
    with django_capture_on_commit_callbacks(execute=True):
        oils = catalog.category_create(actor=None, name="Oils")
    with django_capture_on_commit_callbacks(execute=True):
        rose = catalog.category_create(actor=None, name="Rose", parent=oils)
        product = catalog.product_create(actor=None, name="Rose oil", category=rose,
                                         variants=[{"sku": "RO-1", "price": Decimal("24.5"),
                                                    "stock": 3}])
    variant = product.variants.get()
    with django_capture_on_commit_callbacks(execute=True):
        catalog.variant_update(actor=None, variant=variant, price=Decimal("20"))
    with django_capture_on_commit_callbacks(execute=True):
        inventory.stock_adjust(actor=None, variant=variant, delta=-3, reason="broken")
    with django_capture_on_commit_callbacks(execute=True):
        catalog.product_update(actor=None, product=product, category=None)
        catalog.category_delete(actor=None, category=rose)

    assert all(r.signed for r in receiver.requests)
    bodies = [r.json for r in receiver.requests]
    assert [body["type"] for body in bodies] == [
        "category.changed", "category.changed", "product.created", "product.updated",
        "stock.changed", "product.updated", "category.changed"]
    top, child, created, repriced, stock, moved, deleted = (body["data"] for body in bodies)
    assert top == {"id": to_base64("Category", oils.pk), "name": "Oils", "slug": "oils",
                   "isDeleted": False, "parent": None, "updatedAt": top["updatedAt"]}
    assert child["parent"] == {"id": to_base64("Category", oils.pk), "slug": "oils"}
    assert (created["id"], created["category"]) == (to_base64("Product", product.pk), "rose")
    assert created["variants"][0]["price"] == {"amount": "24.50", "currency": "USD"}
    assert (repriced["changed"], repriced["variants"][0]["price"]["amount"]) == (
        "variants", "20.00")
    assert stock == {
        "variant": {"id": to_base64("ProductVariant", variant.pk), "sku": "RO-1", "name": ""},
        "product": {"id": to_base64("Product", product.pk), "name": "Rose oil"},
        "availableBefore": 3, "availableAfter": 0}
    assert (moved["changed"], moved["category"]) == ("product", None)
    assert deleted == {"id": to_base64("Category", rose.pk), "isDeleted": True}
    assert WebhookDelivery.objects.filter(event_type="stock.changed").count() == 1


def test_a_repeated_dispatch_makes_one_delivery_per_endpoint(receiver):
    listening(receiver)
    order = placed_order()
    (event_id,) = events.publish(events.OrderChanged(order_id=order.pk, event_type="PAID",
                                                     actor_id=None))
    event = events.OrderChanged(order_id=order.pk, event_type="PAID", actor_id=None)
    first = services.deliveries_create(event_id=event_id, event=event)
    again = services.deliveries_create(event_id=event_id, event=event)
    assert first == again and len(first) == 1
    assert WebhookDelivery.objects.count() == 1


def test_money_keeps_the_currencys_places(receiver, django_capture_on_commit_callbacks):
    listening(receiver, event_types=("order.created",))
    order = placed_order()
    body = deliver(events.OrderPlaced(order_id=order.pk), django_capture_on_commit_callbacks)
    assert body["data"]["subtotal"] == {"amount": "25.00", "currency": "USD"}
    assert Decimal(body["data"]["total"]["amount"]) == order.total


def test_the_signature_matches_the_specifications_example():
    # The example of the Standard Webhooks reference libraries.
    assert signing.signature(
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        message_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330,
        body=b'{"test": 2432232314}',
    ) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    secret = signing.generate_secret()
    assert secret.startswith("whsec_") and len(secret) == len("whsec_") + 44
    assert secret != signing.generate_secret()
