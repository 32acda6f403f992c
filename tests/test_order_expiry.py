"""Unpaid orders expire (beat): a PENDING order not paid 30 minutes after it
was placed is cancelled, its stock and coupon use given back and its
PaymentIntent cancelled at the fake Stripe; a bank debit `processing` is
left to its webhook; rounds repeated or at once expire an order once. With a
clock that moves."""

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from apps.discounts.models import CouponUse
from apps.inventory.models import StockMovement
from apps.orders import tasks
from apps.orders.models import Order, OrderEvent, Payment
from apps.orders.services.expiry import expiry_message, orders_expire
from tests import contract
from tests.concurrency import in_threads, keeps_default_warehouse  # noqa: F401 - a fixture
from tests.factories import (
    ADDRESS,
    make_cart,
    make_coupon,
    make_order,
    make_product,
    make_shipping_method,
    make_variant,
)
from tests.test_checkout import allocated
from tests.fake_stripe import use_fake_stripe
from tests.test_stripe_webhook import deliver, event_types, states, stripe_order

STRIPE = {"gateway": "stripe", "token": ""}


@pytest.fixture
def stripe_api(settings):
    settings.DEFAULT_COUNTRY, settings.DEFAULT_CURRENCY = "US", "USD"
    return use_fake_stripe(settings)


@pytest.fixture
def clock():
    """Still until shifted: an order's age is what the test says."""
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def variant(db):
    return make_variant(product=make_product(), price="20.00", stock=10)


def placed(client, variant, *, coupon=None) -> Order:
    """Two of `variant` checked out through the endpoint with Stripe: the
    order PENDING, its stock allocated, its coupon used, its PaymentIntent
    waiting for the customer (or none, when Stripe was out of reach)."""
    cart = make_cart(lines=[(variant, 2)], address=ADDRESS, coupon=coupon,
                     shipping_method=make_shipping_method(name="Ground", price="5.00"))
    client.execute(contract.operations("storefront/cart.graphql", "CheckoutComplete"),
                   {"token": str(cart.token), "payment": STRIPE},
                   operation_name="CheckoutComplete")
    return Order.objects.get(cart_token=cart.token)


def intent_of(stripe_api, order) -> dict:
    return stripe_api.intents[Payment.objects.get(order=order).reference]


def deallocations(order) -> int:
    return StockMovement.objects.filter(kind="deallocation",
                                        reference=f"order:{order.number}").count()


def test_an_order_unpaid_after_30_minutes_expires_and_gives_everything_back(
        client, stripe_api, clock, variant):
    coupon = make_coupon(code="TENOFF", discount_type="FIXED_AMOUNT", value=Decimal("10"),
                         usage_limit=1)
    order = placed(client, variant, coupon=coupon)
    assert states(order) == ("PENDING", "PENDING")
    assert allocated(variant) == 2
    clock.shift(timedelta(minutes=29))
    assert orders_expire() == 0  # the customer may still be paying
    assert states(order) == ("PENDING", "PENDING")
    assert intent_of(stripe_api, order)["status"] == "requires_payment_method"

    clock.shift(timedelta(minutes=2))  # 31 minutes old
    assert orders_expire() == 1
    assert states(order) == ("CANCELLED", "NOT_CHARGED")
    assert allocated(variant) == 0 and deallocations(order) == 1
    assert CouponUse.objects.get(order_id=order.pk).released_at is not None
    assert intent_of(stripe_api, order)["status"] == "canceled"
    assert Payment.objects.get(order=order).status == Payment.Status.CANCELLED
    expired = order.events.get(type=OrderEvent.Type.CANCELLED)
    assert (expired.actor, expired.message) == (None, "Expired unpaid after 30 minutes.")
    assert (expired.from_status, expired.to_status) == ("PENDING", "CANCELLED")
    # The customer's receipt link tells them.
    data = client.execute(contract.operations("storefront/orders.graphql", "OrderByToken"),
                          {"token": str(order.token)}, operation_name="OrderByToken")
    assert (data["orderByToken"]["status"], data["orderByToken"]["paymentStatus"]) == (
        "CANCELLED", "NOT_CHARGED")
    history = client.execute("query($token: UUID!) { orderByToken(token: $token) { "
                             "events { type message } } }", {"token": str(order.token)})
    assert {"type": "CANCELLED", "message": "Expired unpaid after 30 minutes."} in (
        history["orderByToken"]["events"])
    # The coupon's one use is free again: another cart may take it.
    assert placed(client, make_variant(product=make_product(), price="20.00", stock=10),
                  coupon=coupon).coupon_code == "TENOFF"

    # A second round, later: nothing is given back twice.
    history = event_types(order)
    cancels = [r for r in stripe_api.requests if r[1].endswith("/cancel")]
    clock.shift(timedelta(minutes=5))
    assert orders_expire() == 0
    assert event_types(order) == history
    assert deallocations(order) == 1
    assert [r for r in stripe_api.requests if r[1].endswith("/cancel")] == cancels


def test_an_order_whose_payment_failed_expires_too(db, stripe_api, clock):
    order, payment = stripe_order()
    stripe_api.fail(payment.reference)
    Order.objects.filter(pk=order.pk).update(payment_status="FAILED")
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.DECLINED)
    clock.shift(timedelta(minutes=31))
    assert orders_expire() == 1
    assert states(order) == ("CANCELLED", "FAILED")
    assert stripe_api.intents[payment.reference]["status"] == "canceled"
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.CANCELLED


@pytest.mark.parametrize("ending", ["fails", "goes through"])
def test_a_bank_debit_processing_is_left_to_its_webhook(client, stripe_api, clock, variant,
                                                        django_capture_on_commit_callbacks,
                                                        ending):
    order = placed(client, variant)
    intent = intent_of(stripe_api, order)
    stripe_api.process(intent["id"])
    clock.shift(timedelta(minutes=31))
    assert orders_expire() == 0
    assert states(order) == ("PENDING", "PENDING")
    assert allocated(variant) == 2 and deallocations(order) == 0
    assert intent_of(stripe_api, order)["status"] == "processing"
    assert Payment.objects.get(order=order).status == Payment.Status.PENDING
    assert OrderEvent.objects.filter(order=order, type="CANCELLED").count() == 0
    # The bank answers; the webhook says so.
    with django_capture_on_commit_callbacks(execute=True):
        if ending == "fails":
            deliver(client, stripe_api.event("payment_intent.payment_failed",
                                             stripe_api.fail(intent["id"])))
        else:
            deliver(client, stripe_api.event("payment_intent.succeeded",
                                             stripe_api.succeed(intent["id"])))
    clock.shift(timedelta(minutes=1))
    if ending == "fails":  # the next round expires it
        assert orders_expire() == 1
        assert states(order) == ("CANCELLED", "FAILED")
        assert allocated(variant) == 0
    else:  # paid: the stock is the customer's
        assert orders_expire() == 0
        assert states(order) == ("PROCESSING", "PAID")
        assert allocated(variant) == 2


def test_stripe_out_of_reach_holds_back_only_the_orders_with_an_intent(
        client, stripe_api, clock, variant, caplog):
    first = placed(client, variant)
    stripe_api.down = True
    unreached = placed(client, variant)  # PAYMENT_UNAVAILABLE: placed without an intent
    assert not Payment.objects.filter(order=unreached).exists()
    stripe_api.down = False
    clock.shift(timedelta(minutes=1))
    third = placed(client, variant)
    clock.shift(timedelta(minutes=31))
    stripe_api.down = True
    caplog.set_level(logging.WARNING)
    assert orders_expire() == 1
    assert [states(o) for o in (first, unreached, third)] == [
        ("PENDING", "PENDING"), ("CANCELLED", "NOT_CHARGED"), ("PENDING", "PENDING")]
    # Asked once: the third was not tried against a Stripe known to be down.
    assert len([r for r in caplog.records if "out of reach" in r.getMessage()]) == 1
    assert allocated(variant) == 4

    stripe_api.down = False
    clock.shift(timedelta(minutes=1))
    assert orders_expire() == 2
    assert [states(o) for o in (first, third)] == [("CANCELLED", "NOT_CHARGED")] * 2
    assert allocated(variant) == 0


def test_only_pending_unpaid_orders_old_enough_expire(db, clock):
    variant = make_variant(product=make_product(), stock=20)
    old = timezone.now() - timedelta(minutes=31)
    due = make_order(lines=[(variant, 1)], created_at=old)
    young = make_order(lines=[(variant, 1)], created_at=timezone.now() - timedelta(minutes=29))
    paid = make_order(lines=[(variant, 1)], status="PROCESSING", payment_status="PAID",
                      created_at=old)
    shipped = make_order(lines=[(variant, 1)], status="SHIPPED", payment_status="PAID",
                         created_at=old)
    cancelled = make_order(lines=[(variant, 1)], status="CANCELLED", created_at=old)
    assert orders_expire() == 1
    assert states(due) == ("CANCELLED", "NOT_CHARGED")
    assert states(young) == ("PENDING", "NOT_CHARGED")
    assert [states(o) for o in (paid, shipped, cancelled)] == [
        ("PROCESSING", "PAID"), ("SHIPPED", "PAID"), ("CANCELLED", "NOT_CHARGED")]
    assert Order.objects.get(pk=paid.pk).events.count() == 1  # PLACED only


def test_the_age_is_a_setting_and_the_history_says_it(db, clock, settings):
    settings.ORDER_UNPAID_EXPIRY = timedelta(minutes=5)
    variant = make_variant(product=make_product(), stock=5)
    order = make_order(lines=[(variant, 1)], created_at=timezone.now() - timedelta(minutes=6))
    assert orders_expire() == 1
    assert order.events.get(type="CANCELLED").message == "Expired unpaid after 5 minutes."
    assert expiry_message(timedelta(minutes=1)) == "Expired unpaid after 1 minute."
    assert expiry_message(timedelta(seconds=90)) == "Expired unpaid after 90 seconds."


def test_a_round_is_bounded_and_oldest_first(db, clock):
    variant = make_variant(product=make_product(), stock=10)
    orders = [make_order(lines=[(variant, 1)],
                         created_at=timezone.now() - timedelta(minutes=40 - minute))
              for minute in range(3)]
    assert orders_expire(limit=2) == 2
    assert [states(o)[0] for o in orders] == ["CANCELLED", "CANCELLED", "PENDING"]
    assert orders_expire(limit=2) == 1


def test_beat_runs_the_task(db, stripe_api, clock):
    entry = settings.CELERY_BEAT_SCHEDULE["expire-unpaid-orders"]
    assert entry == {"task": "apps.orders.tasks.expire_unpaid_orders",
                     "schedule": settings.ORDER_EXPIRY_EVERY}
    assert tasks.expire_unpaid_orders.name == entry["task"]
    assert settings.ORDER_UNPAID_EXPIRY == timedelta(minutes=30)
    order, payment = stripe_order()
    clock.shift(timedelta(minutes=31))
    assert tasks.expire_unpaid_orders.delay().get() == {"expired": 1, "late_refunds": 0}
    assert states(order) == ("CANCELLED", "NOT_CHARGED")


@pytest.mark.postgresql
@pytest.mark.usefixtures("keeps_default_warehouse")
def test_two_rounds_at_once_expire_each_order_once(transactional_db, stripe_api):
    variant = make_variant(product=make_product(), stock=10)
    old = timezone.now() - timedelta(minutes=31)
    orders = [make_order(lines=[(variant, 2)], created_at=old) for _ in range(3)]
    for _ in range(2):
        order, _ = stripe_order()
        Order.objects.filter(pk=order.pk).update(created_at=old)
        orders.append(order)
    results = in_threads(2, lambda i: orders_expire())
    assert sorted(results) in ([0, 5], [1, 4], [2, 3]), results
    assert {states(o) for o in orders} == {("CANCELLED", "NOT_CHARGED")}
    for order in orders:
        assert OrderEvent.objects.filter(order=order, type="CANCELLED").count() == 1
        assert deallocations(order) == 1
    assert allocated(variant) == 0
    assert len([r for r in stripe_api.requests if r[1].endswith("/cancel")]) == 2
