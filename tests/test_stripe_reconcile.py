"""The reconciliation with Stripe (run by beat): payments left pending are
asked about by their PaymentIntent's id and healed as their lost webhook
would have healed them, with a clock that moves."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from apps.orders import tasks
from apps.orders.models import Order, OrderEvent, Payment
from apps.orders.services.stripe import RECONCILE_WITHIN, stripe_payments_reconcile
from tests.factories import make_order, make_product, make_variant
from tests.fake_stripe import use_fake_stripe
from tests.test_stripe_webhook import event_types, states, stripe_order


@pytest.fixture
def stripe_api(settings):
    return use_fake_stripe(settings)


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def later(clock, **delta) -> None:
    clock.shift(timedelta(**delta))


def test_a_payment_whose_webhook_was_lost_heals(db, stripe_api, clock):
    order, payment = stripe_order()
    stripe_api.succeed(payment.reference)  # paid, and the webhook never came
    later(clock, minutes=1)
    assert stripe_payments_reconcile() == 0  # too young: the webhook may still come
    assert states(order) == ("PENDING", "PENDING")
    later(clock, minutes=5)
    assert stripe_payments_reconcile() == 1
    assert states(order) == ("PROCESSING", "PAID")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert event_types(order) == ["PLACED", "PAID"]
    later(clock, minutes=5)
    assert stripe_payments_reconcile() == 0  # nothing left to ask about
    assert stripe_api.requests[-1][:2] == ("GET", f"/v1/payment_intents/{payment.reference}")


def test_a_failure_heals_and_so_does_another_card_after_it(db, stripe_api, clock):
    order, payment = stripe_order()
    stripe_api.fail(payment.reference, "Do not honour.")
    later(clock, minutes=6)
    assert stripe_payments_reconcile() == 1
    assert states(order) == ("PENDING", "FAILED")
    payment.refresh_from_db()
    assert (payment.status, payment.message) == (Payment.Status.DECLINED, "Do not honour.")
    stripe_api.succeed(payment.reference)  # the customer tried another card
    later(clock, minutes=5)
    assert stripe_payments_reconcile() == 1
    assert states(order) == ("PROCESSING", "PAID")
    assert event_types(order) == ["PLACED", "PAYMENT_FAILED", "PAID"]


@pytest.mark.parametrize("state", ["waiting", "process"])
def test_a_payment_still_under_way_is_left_as_it_is(db, stripe_api, clock, state):
    order, payment = stripe_order()
    if state == "process":
        stripe_api.process(payment.reference)
    later(clock, minutes=6)
    assert stripe_payments_reconcile() == 1
    assert states(order) == ("PENDING", "PENDING")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_a_payment_intent_cancelled_at_stripe_cancels_the_payment(db, stripe_api, clock):
    order, payment = stripe_order()
    stripe_api.intents[payment.reference]["status"] = "canceled"
    later(clock, minutes=6)
    stripe_payments_reconcile()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELLED


def test_a_wrong_amount_is_refused_as_from_the_webhook(db, stripe_api, clock, caplog):
    order, payment = stripe_order()
    stripe_api.succeed(payment.reference)
    stripe_api.intents[payment.reference]["amount_received"] = 100
    later(clock, minutes=6)
    assert stripe_payments_reconcile() == 1
    assert states(order) == ("PENDING", "PENDING")
    assert any(r.levelno == logging.ERROR and "refused" in r.getMessage() for r in caplog.records)


def test_stripe_out_of_reach_ends_the_round_and_the_next_heals(db, stripe_api, clock, caplog):
    first, first_payment = stripe_order()
    second, second_payment = stripe_order()
    stripe_api.succeed(first_payment.reference)
    stripe_api.succeed(second_payment.reference)
    later(clock, minutes=6)
    stripe_api.down = True
    assert stripe_payments_reconcile() == 0
    assert states(first) == states(second) == ("PENDING", "PENDING")
    assert any("reconciliation stopped after 0 of 2" in r.getMessage() for r in caplog.records)
    stripe_api.down = False
    later(clock, minutes=5)
    assert stripe_payments_reconcile() == 2
    assert states(first) == states(second) == ("PROCESSING", "PAID")


def test_only_stripe_payments_of_open_unpaid_orders_are_asked_about(db, stripe_api, clock):
    variant = make_variant(product=make_product(), stock=5)
    make_order(lines=[(variant, 1)], status="PROCESSING", payment_status="PAID")  # dummy
    dummy_pending = make_order(lines=[(variant, 1)], payment_status="PENDING")
    Payment.objects.create(order=dummy_pending, gateway="dummy", amount=dummy_pending.total,
                           currency="USD", reference="dummy_1", idempotency_key="d-1")
    cancelled, _ = stripe_order()
    Order.objects.filter(pk=cancelled.pk).update(status="CANCELLED")
    unreached, unreached_payment = stripe_order()
    Payment.objects.filter(pk=unreached_payment.pk).update(reference="")  # Stripe was down
    old, _ = stripe_order()
    later(clock, minutes=6)
    Payment.objects.filter(order=old).update(
        created_at=timezone.now() - RECONCILE_WITHIN - timedelta(minutes=1))
    mine, _ = stripe_order()
    later(clock, minutes=6)
    stripe_api.requests.clear()
    assert stripe_payments_reconcile() == 1
    [(method, path, _, _)] = stripe_api.requests
    assert path == f"/v1/payment_intents/{Payment.objects.get(order=mine).reference}"


def test_the_round_is_bounded_and_oldest_first(db, stripe_api, clock):
    orders = []
    for _ in range(3):
        orders.append(stripe_order()[0])
        later(clock, minutes=1)
    for order in orders:
        stripe_api.succeed(Payment.objects.get(order=order).reference)
    later(clock, minutes=6)
    assert stripe_payments_reconcile(limit=2) == 2
    assert [states(order) for order in orders] == [("PROCESSING", "PAID")] * 2 + [
        ("PENDING", "PENDING")]


def test_beat_runs_the_task(db, stripe_api, clock):
    entry = settings.CELERY_BEAT_SCHEDULE["reconcile-stripe-payments"]
    assert entry == {"task": "apps.orders.tasks.reconcile_stripe_payments",
                     "schedule": settings.STRIPE_RECONCILE_EVERY}
    assert tasks.reconcile_stripe_payments.name == entry["task"]
    order, payment = stripe_order()
    stripe_api.succeed(payment.reference)
    later(clock, minutes=6)
    assert tasks.reconcile_stripe_payments.delay().get() == 1
    assert states(order) == ("PROCESSING", "PAID")
    assert OrderEvent.objects.filter(order=order, type="PAID").count() == 1
