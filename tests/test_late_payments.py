"""A payment that succeeds after its order expired is refunded in full at
once, through Stripe, and logged: delivered as Stripe signs its webhooks,
against the fake Stripe. The order stays CANCELLED; its payment status goes
PAID (PAY_LATE) then REFUNDED. A Stripe out of reach leaves the refund to the
expiry's next rounds; a refusal for good is recorded for the staff."""

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from apps.orders import tasks
from apps.orders.models import Order, OrderEvent, Payment, Refund
from apps.orders.services.expiry import orders_expire
from apps.orders.services.late_payments import REASON, late_payments_refund
from apps.payments.gateways import stripe as stripe_gateway
from apps.payments.models import StripeEvent
from tests.fake_stripe import use_fake_stripe
from tests.test_stripe_webhook import deliver, event_types, states, stripe_order


@pytest.fixture
def stripe_api(settings):
    return use_fake_stripe(settings)


@pytest.fixture
def expired(db, stripe_api):
    """An order placed with Stripe 31 minutes ago, expired by beat: its
    PaymentIntent cancelled at Stripe, its payment CANCELLED."""
    with time_machine.travel(timezone.now() - timedelta(minutes=31), tick=False):
        order, payment = stripe_order()
    assert orders_expire() == 1
    assert states(order) == ("CANCELLED", "NOT_CHARGED")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELLED
    return order, payment


def succeeds_anyway(stripe_api, client, capture, payment) -> dict:
    """Stripe takes the money all the same (the customer's confirmation
    crossed the cancellation), and tells the shop through the webhook."""
    event = stripe_api.event("payment_intent.succeeded", stripe_api.succeed(payment.reference))
    with capture(execute=True):
        assert deliver(client, event).status_code == 200
    return event


def test_a_payment_after_expiry_is_refunded_in_full_at_once(
        expired, stripe_api, client, django_capture_on_commit_callbacks, caplog):
    order, payment = expired
    caplog.set_level(logging.ERROR)
    event = succeeds_anyway(stripe_api, client, django_capture_on_commit_callbacks, payment)
    assert states(order) == ("CANCELLED", "REFUNDED")
    order.refresh_from_db()
    assert order.total_refunded == order.total == Decimal("12.50")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED  # what Stripe took, never hidden
    refund = Refund.objects.get()
    assert (refund.payment, refund.amount, refund.status, refund.reason, refund.actor) == (
        payment, Decimal("12.50"), Refund.Status.SUCCEEDED, REASON, None)
    # At Stripe: one refund of the whole intent, with the record's key.
    [(_, _, params, key)] = [r for r in stripe_api.requests if r[1] == "/v1/refunds"]
    assert (params["payment_intent"], params["amount"], key) == (
        payment.reference, "1250", refund.idempotency_key)
    assert stripe_api.refunds[refund.reference]["status"] == "succeeded"
    # The history says what was taken, and that it went back.
    assert event_types(order)[-4:] == ["CANCELLED", "NOTE", "NOTE", "REFUNDED"]
    late, refunded = order.events.order_by("-pk")[1], order.events.order_by("-pk")[0]
    assert late.message == (f"Stripe ({payment.reference}) took 12.50 USD after the order was "
                            "cancelled: it is refunded in full.")
    assert (late.from_status, late.to_status, late.from_payment_status,
            late.to_payment_status) == ("CANCELLED", "CANCELLED", "NOT_CHARGED", "PAID")
    assert (refunded.to_status, refunded.to_payment_status) == ("CANCELLED", "REFUNDED")
    assert any(r.levelno == logging.ERROR and order.number in r.getMessage()
               and "after it was cancelled" in r.getMessage() for r in caplog.records)
    assert StripeEvent.objects.get(event_id=event["id"]).outcome == (
        f"succeeded after cancellation of order {order.number}: refunded")

    # The same news again (a replay, the reconciliation) refunds nothing more.
    again = stripe_api.event("payment_intent.succeeded", stripe_api.intents[payment.reference])
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, again)
    assert Refund.objects.count() == 1 and len(stripe_api.refunds) == 1
    assert late_payments_refund() == 0


def test_stripe_out_of_reach_leaves_the_refund_to_the_next_rounds(
        expired, stripe_api, client, django_capture_on_commit_callbacks):
    order, payment = expired
    stripe_api.succeed(payment.reference)
    event = stripe_api.event("payment_intent.succeeded", stripe_api.intents[payment.reference])
    stripe_api.down = True  # the webhook arrives; Stripe's API does not answer the refund
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, event).status_code == 200
    assert states(order) == ("CANCELLED", "PAID")  # recorded: the money is owed back
    attempt = Refund.objects.get()  # kept with its key, counted nowhere
    assert (attempt.status, attempt.amount) == (Refund.Status.REQUESTED, Decimal("12.50"))
    note = order.events.order_by("-pk").first()
    assert note.type == "NOTE" and "it is tried again" in note.message
    assert StripeEvent.objects.get().outcome.endswith(": paid")

    assert late_payments_refund() == 0  # still down
    assert states(order) == ("CANCELLED", "PAID")
    assert order.events.filter(message__contains="tried again").count() == 1  # noted once

    stripe_api.down = False
    assert tasks.expire_unpaid_orders.delay().get() == {"expired": 0, "late_refunds": 1}
    assert states(order) == ("CANCELLED", "REFUNDED")
    settled = Refund.objects.get()
    assert (settled.pk, settled.status) == (attempt.pk, Refund.Status.SUCCEEDED)
    # Every try sent the attempt's one key.
    assert {r[3] for r in stripe_api.requests if r[1] == "/v1/refunds"} == {
        attempt.idempotency_key}
    assert late_payments_refund() == 0


def test_a_late_refund_stripe_made_before_a_rollback_is_found_not_made_again(
        expired, stripe_api, client, django_capture_on_commit_callbacks):
    """The news's handling rolled back after Stripe made the refund (a
    deadlock, retried): its attempt went with it, but the late refund's key
    is the payment's own, so the retry's call, another record's id in its
    metadata, is answered with the refund Stripe made."""
    order, payment = expired
    stripe_api.succeed(payment.reference)
    made = stripe_gateway.Gateway().refund(
        charge_reference=payment.reference, amount=order.money(order.total),
        idempotency_key=f"refund-late-{payment.pk}", refund_id="999")
    event = stripe_api.event("payment_intent.succeeded", stripe_api.intents[payment.reference])
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event)
    assert states(order) == ("CANCELLED", "REFUNDED")
    assert list(stripe_api.refunds) == [made.reference]
    assert Refund.objects.get().reference == made.reference


def test_a_refund_refused_for_good_is_recorded_for_the_staff_and_not_tried_again(
        expired, stripe_api, client, django_capture_on_commit_callbacks):
    order, payment = expired
    stripe_api.succeed(payment.reference)
    # Someone gave the money back in Stripe's dashboard meanwhile.
    stripe_gateway.Gateway().refund(charge_reference=payment.reference,
                                    amount=order.money(order.total), idempotency_key="dashboard")
    event = stripe_api.event("payment_intent.succeeded", stripe_api.intents[payment.reference])
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event)
    assert states(order) == ("CANCELLED", "PAID")
    failed = Refund.objects.get()
    assert (failed.payment, failed.status, failed.amount) == (payment, Refund.Status.FAILED,
                                                              Decimal("12.50"))
    note = order.events.order_by("-pk").first()
    assert note.type == "NOTE" and "give the money back another way" in note.message
    asked = len(stripe_api.requests)
    assert late_payments_refund() == 0
    assert len(stripe_api.requests) == asked  # not asked again


def test_a_payment_after_the_customer_cancelled_is_refunded_the_same_way(
        db, stripe_api, client, django_capture_on_commit_callbacks):
    """Whoever gave the order up: the cancellation (here the customer's,
    PaymentIntent and all) is the same one."""
    from apps.orders.services.cancellation import order_cancel

    order, payment = stripe_order()
    order_cancel(order=order, actor=None)
    succeeds_anyway(stripe_api, client, django_capture_on_commit_callbacks, payment)
    assert states(order) == ("CANCELLED", "REFUNDED")
    assert Refund.objects.get(payment=payment).status == Refund.Status.SUCCEEDED


def test_money_on_a_cancelled_order_already_refunded_otherwise_is_noted_not_refunded(
        db, stripe_api, client, django_capture_on_commit_callbacks, caplog):
    """The order was paid another way and refunded when it was cancelled: the
    table has no PAY_LATE from REFUNDED, so which money to give back is the
    staff's call, and the order says so."""
    order, payment = stripe_order()
    Order.objects.filter(pk=order.pk).update(status="CANCELLED", payment_status="REFUNDED")
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.CANCELLED)
    succeeds_anyway(stripe_api, client, django_capture_on_commit_callbacks, payment)
    assert states(order) == ("CANCELLED", "REFUNDED")
    assert not Refund.objects.exists()
    note = OrderEvent.objects.filter(order=order, type="NOTE").get()
    assert "refund it" in note.message
    assert any(r.levelno == logging.ERROR and "refund it" in r.getMessage()
               for r in caplog.records)


def test_the_reconciliations_reading_of_the_intent_refunds_the_same_way(expired, stripe_api):
    """What the reconciliation reads back (retrieve) is applied as the
    webhook's event is: the same refund."""
    from apps.orders.services.stripe import outcome_of, payment_intent_apply

    order, payment = expired
    stripe_api.succeed(payment.reference)
    intent = stripe_gateway.Gateway().retrieve(charge_reference=payment.reference)
    assert payment_intent_apply(intent=intent, outcome=outcome_of(intent)).endswith("refunded")
    assert states(order) == ("CANCELLED", "REFUNDED")
    assert Refund.objects.get().payment == payment
