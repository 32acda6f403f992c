# ruff: noqa: F811 - the fixtures imported from tests.test_stripe_checkout
"""A refund Stripe made whose answer was lost is never made twice.

Against the fake Stripe (tests/fake_stripe.py), driven by the real `stripe`
library: the fake makes the refund and then drops the connection, holds the
answer past the client's timeout, or answers 500. The attempt, committed
before Stripe was asked, stays REQUESTED with its key (PAYMENT_UNAVAILABLE);
asking again, beat's round and the refund's webhook each settle it, and the
fake holds one refund whatever happens."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.orders import tasks
from apps.orders.models import Order, OrderEvent, Refund
from apps.orders.services import refunds
from apps.orders.services.refund_attempts import refund_attempts_settle
from tests.concurrency import keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import problems
from tests.test_stripe_checkout import (  # noqa: F401 - fixtures
    cancel,
    cart,
    paid_order,
    refund,
    stripe_api,
    variant,
)
from tests.test_checkout import allocated
from tests.test_stripe_webhook import deliver

LOSSES = ["drop", "timeout", "500"]


@pytest.fixture
def lost(stripe_api, settings):
    """Stripe makes the next refunds and their answers are lost, in the way
    the test names; `lost(None)` brings the answers back."""

    def lose(how: str | None) -> None:
        if how == "timeout":
            settings.STRIPE_TIMEOUT = 0.5  # the client gives up; the fake is held meanwhile
        elif how is None:
            stripe_api.released.set()
        stripe_api.lose, stripe_api.lose_on = how, {"/v1/refunds"}

    yield lose
    stripe_api.released.set()


def refund_keys(stripe_api) -> list[str]:
    return [r[3] for r in stripe_api.requests if r[:2] == ("POST", "/v1/refunds")]


def state(order) -> tuple[str, str, str]:
    order.refresh_from_db()
    return order.status, order.payment_status, str(order.total_refunded)


def unanswered_refund(staff_client, stripe_api, order, lost, how, amount="10.00"):
    """orderRefund whose refund Stripe makes and whose answer is lost."""
    lost(how)
    answer = refund(staff_client, order, amount)
    assert problems(answer) == [(None, "PAYMENT_UNAVAILABLE")] and answer["order"] is None
    lost(None)
    attempt = Refund.objects.get()
    assert (attempt.status, attempt.unanswered, attempt.reference) == ("REQUESTED", True, "")
    [made] = stripe_api.refunds.values()
    assert made["metadata"] == {"idempotency_key": attempt.idempotency_key,
                                "refund_id": str(attempt.pk)}
    assert state(order)[1:] == ("PAID", "0.00")  # counted nowhere yet
    return attempt, made


@pytest.mark.parametrize("how", LOSSES)
def test_asking_again_settles_the_refund_stripe_made_and_makes_no_other(
        staff_client, stripe_api, paid_order, lost, how):
    order, payment, _ = paid_order
    attempt, made = unanswered_refund(staff_client, stripe_api, order, lost, how)
    again = refund(staff_client, order, "10.00")
    assert again["errors"] == []
    assert again["order"]["paymentStatus"] == "PARTIALLY_REFUNDED"
    assert again["order"]["totalRefunded"] == {"amount": "10.00", "currency": "USD"}
    assert list(stripe_api.refunds) == [made["id"]]  # one refund at Stripe
    assert refund_keys(stripe_api) == [attempt.idempotency_key] * 2  # asked with its key
    attempt.refresh_from_db()
    assert (attempt.status, attempt.reference) == ("SUCCEEDED", made["id"])
    assert Refund.objects.count() == 1
    note = OrderEvent.objects.filter(order=order).order_by("-pk").first()
    assert note.type == "REFUNDED" and "answer had been lost" in note.message
    # Asked once more, it is a new refund, with a new key.
    third = refund(staff_client, order, "5.00")
    assert third["order"]["totalRefunded"]["amount"] == "15.00"
    assert len(stripe_api.refunds) == 2 and len(set(refund_keys(stripe_api))) == 2


def test_beat_settles_a_lost_answer_by_itself(staff_client, stripe_api, paid_order, lost,
                                              time_machine, settings):
    order, _, _ = paid_order
    attempt, made = unanswered_refund(staff_client, stripe_api, order, lost, "drop")
    assert refund_attempts_settle() == 0  # its request may still be waiting: not yet
    time_machine.move_to(timezone.now() + settings.STRIPE_RECONCILE_AFTER, tick=False)
    assert tasks.settle_refund_attempts.delay().get() == 1
    attempt.refresh_from_db()
    assert (attempt.status, attempt.reference) == ("SUCCEEDED", made["id"])
    assert state(order)[1:] == ("PARTIALLY_REFUNDED", "10.00")
    assert len(stripe_api.refunds) == 1 and refund_keys(stripe_api) == [
        attempt.idempotency_key] * 2
    assert refund_attempts_settle() == 0  # nothing left to settle


def test_beat_stops_while_stripe_is_out_of_reach_and_heals_after(
        staff_client, stripe_api, paid_order, lost, time_machine, settings):
    order, _, _ = paid_order
    attempt, _ = unanswered_refund(staff_client, stripe_api, order, lost, "500")
    time_machine.move_to(timezone.now() + settings.STRIPE_RECONCILE_AFTER, tick=False)
    stripe_api.down = True
    assert refund_attempts_settle() == 0
    attempt.refresh_from_db()
    assert attempt.status == "REQUESTED"
    stripe_api.down = False
    assert refund_attempts_settle() == 1
    assert state(order)[1:] == ("PARTIALLY_REFUNDED", "10.00") and len(stripe_api.refunds) == 1


def test_past_a_days_keys_the_refund_is_looked_up_not_made_again(
        staff_client, stripe_api, paid_order, lost, time_machine):
    order, _, _ = paid_order
    attempt, made = unanswered_refund(staff_client, stripe_api, order, lost, "drop")
    time_machine.move_to(timezone.now() + timedelta(hours=23, minutes=1), tick=False)
    stripe_api.keys.clear()  # Stripe forgets keys after 24 hours
    # (the service itself: the staff's access token has long expired)
    again = refunds.order_refund(order=order, actor=None, amount=Decimal("10.00"))
    assert again.total_refunded == Decimal("10.00")
    assert list(stripe_api.refunds) == [made["id"]]
    assert ("GET", "/v1/refunds") in [r[:2] for r in stripe_api.requests]
    attempt.refresh_from_db()
    assert (attempt.status, attempt.reference) == ("SUCCEEDED", made["id"])


def test_past_a_days_keys_a_refund_stripe_never_made_is_made_with_a_new_key(
        staff_client, stripe_api, paid_order, time_machine):
    order, _, _ = paid_order
    stripe_api.down = True  # the request never reached Stripe
    assert problems(refund(staff_client, order, "10.00")) == [(None, "PAYMENT_UNAVAILABLE")]
    stripe_api.down = False
    attempt = Refund.objects.get()
    old_key = attempt.idempotency_key
    time_machine.move_to(timezone.now() + timedelta(hours=24), tick=False)
    again = refunds.order_refund(order=order, actor=None, amount=Decimal("10.00"))
    assert again.total_refunded == Decimal("10.00")
    attempt.refresh_from_db()
    [made] = stripe_api.refunds.values()
    assert attempt.idempotency_key != old_key
    assert refund_keys(stripe_api) == [attempt.idempotency_key]
    assert made["metadata"]["refund_id"] == str(attempt.pk)
    assert (attempt.status, attempt.reference) == ("SUCCEEDED", made["id"])


@pytest.mark.parametrize("event_type", ["refund.updated", "charge.refunded"])
def test_the_refund_webhook_settles_the_attempt_once(
        client, staff_client, stripe_api, paid_order, lost,
        django_capture_on_commit_callbacks, event_type):
    order, payment, _ = paid_order
    attempt, made = unanswered_refund(staff_client, stripe_api, order, lost, "timeout")
    obj = made if event_type == "refund.updated" else stripe_api.charge_of(payment.reference)
    for _ in range(2):  # told twice, as two events
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(client, stripe_api.event(event_type, obj)).status_code == 200
    attempt.refresh_from_db()
    assert (attempt.status, attempt.reference) == ("SUCCEEDED", made["id"])
    assert state(order)[1:] == ("PARTIALLY_REFUNDED", "10.00")
    # Settled: beat and the order's next refund have nothing of it to settle.
    assert refund_attempts_settle() == 0
    assert len(stripe_api.refunds) == 1


def test_a_failure_the_webhook_tells_of_an_unanswered_attempt_counts_nowhere(
        client, staff_client, stripe_api, paid_order, lost,
        django_capture_on_commit_callbacks):
    order, _, _ = paid_order
    attempt, made = unanswered_refund(staff_client, stripe_api, order, lost, "drop")
    failed = stripe_api.settle(made["id"], "failed")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_api.event("refund.failed", failed))
    attempt.refresh_from_db()
    assert attempt.status == "FAILED"
    assert state(order)[1:] == ("PAID", "0.00")
    assert "expired_or_canceled_card" in OrderEvent.objects.filter(
        order=order).order_by("-pk").first().message


@pytest.mark.parametrize("how", ["drop", "500"])
def test_a_cancellation_whose_answer_was_lost_refunds_once_when_asked_again(
        stripe_api, paid_order, variant, lost, how):
    order, payment, customer = paid_order
    lost(how)
    assert problems(cancel(customer, order)) == [(None, "PAYMENT_UNAVAILABLE")]
    lost(None)
    assert state(order) == ("PROCESSING", "PAID", "0.00") and allocated(variant) == 2
    attempt = Refund.objects.get()
    assert (attempt.status, attempt.unanswered, attempt.amount) == ("REQUESTED", True,
                                                                    Decimal("49.50"))
    again = cancel(customer, order)
    assert again["errors"] == [] and again["order"]["status"] == "CANCELLED"
    assert state(order) == ("CANCELLED", "REFUNDED", "49.50") and allocated(variant) == 0
    assert len(stripe_api.refunds) == 1 and Refund.objects.get().status == "SUCCEEDED"


# --- Two refunds, or a refund and a cancellation, at once (PostgreSQL: the order's row lock) ---


def while_stripe_refunds(stripe_api, call) -> list:
    """Make `call` while Stripe is making the first refund (its request
    waits for the answer, holding no lock), from the fake's thread; a list
    that then holds what it answered or raised."""
    second: list = []

    def meanwhile(method: str, path: str) -> None:
        if (method, path) == ("POST", "/v1/refunds") and not second:
            second.append(None)
            try:
                second[0] = call()
            except Exception as error:  # noqa: BLE001 - the test reads it
                second[0] = error
            finally:
                connection.close()  # the fake's thread's own

    stripe_api.on_request = meanwhile
    return second


@pytest.mark.postgresql
@pytest.mark.usefixtures("keeps_default_warehouse")
def test_two_refunds_at_once_never_exceed_what_was_paid(
        transactional_db, staff_client, stripe_api, paid_order):
    """The second staff member asks while Stripe is making the first refund
    (the request waits for its answer, holding no lock): the first's attempt
    is committed and held back, and left alone (it is on its way, not
    lost), so the second may refund only what is left."""
    order, _, _ = paid_order
    second = while_stripe_refunds(stripe_api, lambda: refunds.order_refund(
        order=Order(pk=order.pk), actor=None, amount=Decimal("40.00")))
    first = refund(staff_client, order, "40.00")
    assert first["errors"] == []
    assert "At most 9.50 USD is left to refund." in str(second[0])
    assert state(order)[1:] == ("PARTIALLY_REFUNDED", "40.00")
    assert len(stripe_api.refunds) == 1 and Refund.objects.count() == 1


@pytest.mark.postgresql
@pytest.mark.usefixtures("keeps_default_warehouse")
def test_a_cancellation_while_a_full_refund_is_on_its_way_is_refused_and_changes_nothing(
        transactional_db, staff_client, stripe_api, paid_order, variant):
    """The customer cancels while Stripe is making the staff's full refund:
    the attempt holds back all that was paid and is on its way, not lost, so
    the cancellation is refused as a second one would be (INVALID_TRANSITION,
    saying why), gives nothing back and leaves the refund to apply."""
    order, _, customer = paid_order
    second = while_stripe_refunds(stripe_api, lambda: cancel(customer, order))
    assert refund(staff_client, order, "49.50")["errors"] == []
    assert problems(second[0]) == [(None, "INVALID_TRANSITION")]
    assert "being refunded by another request" in second[0]["errors"][0]["message"]
    assert state(order) == ("PROCESSING", "REFUNDED", "49.50") and allocated(variant) == 2
    assert len(stripe_api.refunds) == 1 and Refund.objects.get().status == "SUCCEEDED"
