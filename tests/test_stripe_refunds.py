"""Refunds that Stripe reports as failed: refused when asked for, or failed
after they were counted (refund.updated / charge.refund.updated /
refund.failed with status `failed`, signed as Stripe signs them). Such a
refund never counts in the order's totalRefunded: its amount goes back to
what may be refunded, the Refund is FAILED, the history says so and the
order desk is told; a report that arrives twice or out of order counts
once."""

import pytest
from django.core import mail

from apps.core.models import OutboxEvent
from apps.notifications.models import Kind, Notification
from apps.orders.models import Order, OrderEvent, Refund
from apps.payments.models import StripeEvent
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


def state(order) -> tuple[str, str, str]:
    order.refresh_from_db()
    return order.status, order.payment_status, str(order.total_refunded)


def refund_failed_alerts() -> list[str]:
    return [m.subject for m in mail.outbox if m.subject.startswith("Refund failed")]


@pytest.fixture
def settle(client, stripe_api, django_capture_on_commit_callbacks):  # noqa: F811
    """Stripe settles a refund and tells the shop with a signed event (and
    what the commit hands on runs: the outbox, the eager tasks)."""

    def send(record: Refund, status: str, event_type: str = "refund.updated", **event):
        sent = stripe_api.event(event_type, stripe_api.settle(record.reference, status),
                                **event)
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(client, sent).status_code == 200
        return sent

    return send


@pytest.mark.parametrize("event_type", ["refund.updated", "charge.refund.updated",
                                        "refund.failed"])
def test_a_pending_refund_that_fails_is_given_back_to_refund(
        staff_client, stripe_api, paid_order, settle, event_type):  # noqa: F811
    order, _, _ = paid_order
    stripe_api.refund_status = "pending"
    assert refund(staff_client, order)["order"]["paymentStatus"] == "REFUNDED"
    record = Refund.objects.get()
    assert state(order)[1:] == ("REFUNDED", "49.50")
    mail.outbox.clear()
    settle(record, "failed", event_type)
    record.refresh_from_db()
    assert record.status == Refund.Status.FAILED
    assert state(order) == ("PROCESSING", "PAID", "0.00")
    note = OrderEvent.objects.filter(order=order).order_by("-pk").first()
    assert (note.type, note.from_payment_status, note.to_payment_status) == ("NOTE", "REFUNDED",
                                                                             "PAID")
    assert "49.50 USD" in note.message and "expired_or_canceled_card" in note.message
    assert OutboxEvent.objects.filter(type="RefundFailed").count() == 1
    # The order desk (staff with manage_orders) is told; the customer is not.
    assert refund_failed_alerts() == [f"Refund failed on order #{order.number}: 49.50 USD"]
    assert Notification.objects.filter(kind=Kind.REFUND_FAILED, status="SENT").count() == 1
    assert "expired_or_canceled_card" in mail.outbox[0].body
    # What was given back may be refunded again.
    stripe_api.refund_status = "succeeded"
    again = refund(staff_client, order)
    assert again["errors"] == [] and again["order"]["totalRefunded"]["amount"] == "49.50"


def test_the_failure_told_twice_or_out_of_order_counts_once(
        staff_client, stripe_api, paid_order, settle):  # noqa: F811
    order, _, _ = paid_order
    stripe_api.refund_status = "pending"
    refund(staff_client, order, "10.00")
    refund(staff_client, order, "15.00")
    first, _ = Refund.objects.order_by("pk")
    assert state(order)[1:] == ("PARTIALLY_REFUNDED", "25.00")
    failed = settle(first, "failed", "refund.failed", event_id="evt_refund_failed_1")
    assert state(order)[1:] == ("PARTIALLY_REFUNDED", "15.00")
    # The same event again (recorded once), the same news as another event
    # type, and a late "pending" and "succeeded" from before the failure.
    settle(first, "failed", "refund.failed", event_id=failed["id"])
    settle(first, "failed", "charge.refund.updated")
    settle(first, "pending", "refund.updated")
    settle(first, "succeeded", "refund.updated")
    first.refresh_from_db()
    assert first.status == Refund.Status.FAILED
    assert state(order)[1:] == ("PARTIALLY_REFUNDED", "15.00")
    assert OutboxEvent.objects.filter(type="RefundFailed").count() == 1
    assert StripeEvent.objects.filter(event_id=failed["id"]).count() == 1
    assert OrderEvent.objects.filter(order=order, type="NOTE",
                                     message__contains="failed").count() == 1


def test_a_refund_that_succeeded_and_then_failed_is_given_back(
        staff_client, stripe_api, paid_order, settle):  # noqa: F811
    order, _, _ = paid_order
    refund(staff_client, order, "20.00")
    record = Refund.objects.get()
    assert record.status == Refund.Status.SUCCEEDED
    settle(record, "failed", "charge.refund.updated")
    record.refresh_from_db()
    assert record.status == Refund.Status.FAILED
    assert state(order)[1:] == ("PAID", "0.00")


def test_a_refund_stripe_makes_failed_at_once_is_refused_counted_nowhere_and_kept(
        staff_client, stripe_api, paid_order, django_capture_on_commit_callbacks):  # noqa: F811
    order, payment, _ = paid_order
    stripe_api.refund_status = "failed"
    with django_capture_on_commit_callbacks(execute=True):
        answer = refund(staff_client, order, "10.00")
    assert problems(answer) == [(None, "INVALID")] and answer["order"] is None
    assert "refused the refund" in answer["errors"][0]["message"]
    assert state(order)[1:] == ("PAID", "0.00")
    record = Refund.objects.get()
    [made] = stripe_api.refunds.values()
    assert (record.status, record.reference, record.amount) == (Refund.Status.FAILED,
                                                                made["id"], 10)
    assert record.idempotency_key == made["metadata"]["idempotency_key"]
    note = OrderEvent.objects.filter(order=order).order_by("-pk").first()
    assert note.type == "NOTE" and "refused" in note.message and "10.00 USD" in note.message
    assert "lost_or_stolen_card" in note.message
    assert refund_failed_alerts() == [f"Refund failed on order #{order.number}: 10.00 USD"]


def test_a_cancellation_whose_refund_stripe_refuses_is_refused_and_the_refusal_kept(
        stripe_api, paid_order, variant):  # noqa: F811
    order, _, customer = paid_order
    stripe_api.refund_status = "failed"
    assert problems(cancel(customer, order)) == [(None, "INVALID")]
    assert state(order) == ("PROCESSING", "PAID", "0.00")
    assert allocated(variant) == 2
    assert Refund.objects.get().status == Refund.Status.FAILED
    assert Order.objects.get().events.filter(type="CANCELLED").count() == 0
