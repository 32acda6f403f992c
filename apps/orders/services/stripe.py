"""What Stripe's events do to orders, payments and refunds.

Each event recorded by the webhook (apps.payments.webhooks) is handled here
once, after its commit, by a worker; the reconciliation (below, run by
beat) reads a PaymentIntent that has gone quiet and applies it the same way,
so a lost webhook heals as a delivered one would.

Events arrive late, twice (recorded once, so handled once) and out of order,
and none may move anything backwards. A Payment only moves forward: PENDING
to DECLINED or CANCELLED, PENDING or DECLINED (the customer tried another
card on the same PaymentIntent) to SUCCEEDED, and never out of SUCCEEDED; a
failure that arrives after the success is ignored. The order moves only by
order_transition, whose table refuses what it does not allow (a payment
failure on a paid order): the refusal is logged, and the event has done
what it could. A payment whose amount or currency is not the Payment's is
refused and logged: what Stripe took is not what the order asked.

The order's row is locked first (apps.orders.services.locks, as
cancellation and refunds lock it), then its payment's or refund's, so an
event and a cancellation of one order take turns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core import events
from apps.core.errors import ErrorCode, ServiceError
from apps.core.money import Money
from apps.orders.models import Order, OrderStatus, Payment, Refund
from apps.orders.services.late_payments import late_payment_refund
from apps.orders.services.locks import order_locked
from apps.orders.services.refund_attempts import attempt_apply
from apps.orders.services.refunds import refund_failed
from apps.orders.services.transitions import order_note, order_transition
from apps.orders.transitions import Move, allowed
from apps.payments.gateways import GatewayUnavailable
from apps.payments.gateways.stripe import (
    CANCELED,
    SUCCEEDED,
    Gateway,
    PaymentIntentState,
    refund_result,
)
from apps.payments.models import StripeEvent
from apps.payments.stripe_amounts import from_stripe_amount
from apps.payments.webhooks import EVENT_TYPES

logger = logging.getLogger(__name__)

STRIPE = Gateway.id


class Outcome(StrEnum):
    """What a PaymentIntent's news means for its Payment."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    WAITING = "waiting"  # nothing to do yet (processing, the customer is at it)


def outcome_of(intent: PaymentIntentState) -> Outcome:
    """Read from the intent's state, as the reconciliation must."""
    if intent.status == SUCCEEDED:
        return Outcome.SUCCEEDED
    if intent.status == CANCELED:
        return Outcome.CANCELED
    return Outcome.FAILED if intent.failed else Outcome.WAITING


def _move(order: Order, move: Move, message: str) -> str:
    """order_transition, whose refusal is an outcome here, not an error: the
    order has moved on (a late or repeated event)."""
    try:
        order_transition(order=order, move=move, message=message)
    except ServiceError as error:
        if error.errors[0].code != ErrorCode.INVALID_TRANSITION:
            raise
        logger.warning("Stripe: order %s not moved (%s): %s", order.number, move, error)
        return f"order {order.number} left as it was: {error}"
    return f"order {order.number}: {move}"


def payment_intent_apply(*, intent: PaymentIntentState, outcome: Outcome) -> str:
    """Apply what Stripe says of a PaymentIntent to its Payment and order;
    answers what was done, in words (see the module's docstring)."""
    found = Payment.objects.select_related("order").filter(
        gateway=STRIPE, reference=intent.id).first()
    if found is None:
        logger.warning("Stripe: no payment for PaymentIntent %s.", intent.id)
        return f"no payment for {intent.id}"
    with transaction.atomic():
        order = order_locked(order=found.order)
        payment = Payment.objects.select_for_update().get(pk=found.pk)
        if outcome == Outcome.SUCCEEDED:
            return _succeeded(order, payment, intent)
        if outcome == Outcome.FAILED:
            return _failed(order, payment, intent)
        if outcome == Outcome.CANCELED and payment.status in (
                Payment.Status.PENDING, Payment.Status.DECLINED):
            payment.status = Payment.Status.CANCELLED
            payment.save(update_fields=["status", "updated_at"])
            return f"payment {payment.pk} cancelled"
    return f"payment {payment.pk} left {payment.status.lower()} ({intent.status})"


def _succeeded(order: Order, payment: Payment, intent: PaymentIntentState) -> str:
    taken = intent.amount_received or intent.amount
    if taken != Money.of(payment.amount, payment.currency):
        logger.error("Stripe: PaymentIntent %s took %s, but payment %s of order %s is %s %s; "
                     "refused.", intent.id, taken, payment.pk, order.number, payment.amount,
                     payment.currency)
        return f"refused: {taken} is not the payment's {payment.amount} {payment.currency}"
    if payment.status == Payment.Status.SUCCEEDED:
        return f"payment {payment.pk} already succeeded"
    was_cancelled = payment.status == Payment.Status.CANCELLED
    payment.status = Payment.Status.SUCCEEDED
    payment.message = ""
    payment.save(update_fields=["status", "message", "updated_at"])
    if order.status == OrderStatus.CANCELLED and allowed(
            Move.PAY_LATE, status=order.status, payment_status=order.payment_status):
        # Taken after the order was given up (it expired while the customer
        # was paying): refunded at once, never kept.
        order = late_payment_refund(order=order, taken=taken, where=f"Stripe ({intent.id})")
        return (f"succeeded after cancellation of order {order.number}: "
                f"{order.payment_status.lower()}")
    if was_cancelled or order.status == OrderStatus.CANCELLED:
        # The money was taken although the shop had given the payment up,
        # on an order that is paid for otherwise (or still open, paying
        # through another charge): never kept silently, but which charge to
        # give back is the staff's call.
        logger.error("Stripe: PaymentIntent %s succeeded on cancelled order %s; refund it.",
                     intent.id, order.number)
        order_note(order=order, message=f"Stripe took {taken} ({intent.id}) after the order's "
                                        "payment was given up: refund it.")
        return f"succeeded after cancellation of order {order.number}: noted for a refund"
    return _move(order, Move.PAY, f"Paid through Stripe ({intent.id}).")


def _failed(order: Order, payment: Payment, intent: PaymentIntentState) -> str:
    if payment.status != Payment.Status.PENDING:
        # Already failed once (the order says so), or paid since: a late
        # failure of an earlier attempt changes nothing.
        return f"payment {payment.pk} already {payment.status.lower()}: failure ignored"
    message = intent.failure or "The payment failed."
    payment.status = Payment.Status.DECLINED
    payment.message = message[:1000]
    payment.save(update_fields=["status", "message", "updated_at"])
    return _move(order, Move.PAYMENT_FAIL, message)


# --- Refunds and disputes -------------------------------------------------------------

_REFUND_STATUSES = {"succeeded": Refund.Status.SUCCEEDED, "failed": Refund.Status.FAILED,
                    "canceled": Refund.Status.FAILED}


def refund_apply(*, refund: Mapping[str, Any]) -> str:
    """A Stripe Refund's news for its record, found by its id or, before
    the record knows the id, by the record's id or idempotency key in its
    metadata. An attempt still REQUESTED (its answer was lost) is settled by
    it as the answer would have (refund_attempts.attempt_apply: counted, or
    FAILED). A PENDING record succeeds; a PENDING or SUCCEEDED one that
    Stripe reports failed (or canceled) no longer counts as refunded:
    refund_failed gives its amount back to refund, notes it and tells the
    order desk. FAILED is where a refund ends, so a late "pending" or
    "succeeded", or the failure told twice (refund.failed, then
    refund.updated), changes nothing."""
    metadata = refund.get("metadata") or {}
    match = Q(reference=refund["id"])
    if metadata.get("idempotency_key"):
        match |= Q(idempotency_key=metadata["idempotency_key"])
    if str(metadata.get("refund_id") or "").isdigit():
        match |= Q(pk=int(metadata["refund_id"]))
    record = Refund.objects.select_related("payment__order").filter(
        match, payment__gateway=STRIPE).first()
    if record is None:
        logger.warning("Stripe: no refund record for %s.", refund["id"])
        return f"no refund record for {refund['id']}"
    status = _REFUND_STATUSES.get(str(refund.get("status")))
    with transaction.atomic():
        order = order_locked(order=record.payment.order)
        record = Refund.objects.select_for_update().select_related("payment").get(pk=record.pk)
        if record.status == Refund.Status.REQUESTED:
            result = refund_result(refund)
            order = attempt_apply(order=order, attempt=record, result=result, message=(
                f"Refunded {order.money(record.amount)} (Stripe told of it: the answer to "
                "the request had been lost)."))
            return (f"refund {record.pk} settled {record.status.lower()}: order "
                    f"{order.number} {order.payment_status.lower()}, {order.total_refunded} "
                    "refunded")
        if status == Refund.Status.FAILED and record.status != Refund.Status.FAILED:
            record.reference = str(refund["id"])
            record.save(update_fields=["reference"])
            reason = str(refund.get("failure_reason") or "no reason given")
            order = refund_failed(order=order, refund=record, reason=reason)
            return (f"refund {record.pk} failed ({reason}): order {order.number} "
                    f"{order.payment_status.lower()}, {order.total_refunded} refunded")
        if status is None or record.status != Refund.Status.PENDING:
            return f"refund {record.pk} left {record.status.lower()} ({refund.get('status')})"
        record.status, record.reference = status, str(refund["id"])
        record.save(update_fields=["status", "reference"])
    return f"refund {record.pk} {status.lower()}"


def _refund_event(obj: Mapping[str, Any]) -> str:
    return refund_apply(refund=obj)


def _charge_refunded(obj: Mapping[str, Any]) -> str:
    # The charge lists its refunds only where the API version still embeds
    # them; the refund.* events carry each one in any version.
    refunds = (obj.get("refunds") or {}).get("data") or []
    return "; ".join(refund_apply(refund=refund) for refund in refunds) or \
        "no refunds embedded: left to the refund events"


def _dispute(obj: Mapping[str, Any]) -> str:
    payment = Payment.objects.select_related("order").filter(
        gateway=STRIPE, reference=str(obj.get("payment_intent") or "")).first()
    if payment is None:
        logger.warning("Stripe: dispute %s of no known payment.", obj.get("id"))
        return f"no payment for dispute {obj.get('id')}"
    order, status = payment.order, str(obj.get("status") or "")
    amount = from_stripe_amount(int(obj["amount"]), str(obj["currency"]))
    if status in ("won", "lost", "warning_closed"):
        message = f"Stripe: the dispute of {amount} ({obj['id']}) was closed: {status}."
    else:
        message = (f"Stripe: the customer's bank disputes {amount} ({obj['id']}, "
                   f"{obj.get('reason') or 'no reason given'}); answer it in Stripe's "
                   "dashboard.")
    logger.warning("%s Order %s.", message, order.number)
    with transaction.atomic():
        order_note(order=order, message=message)
        events.publish(events.OrderDisputed(order_id=order.pk, dispute_id=str(obj["id"]),
                                            status=status))
    return f"noted on order {order.number}"


def _intent_event(outcome: Outcome) -> Callable[[Mapping[str, Any]], str]:
    def apply(obj: Mapping[str, Any]) -> str:
        return payment_intent_apply(intent=PaymentIntentState.of(obj), outcome=outcome)
    return apply


HANDLERS: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "payment_intent.succeeded": _intent_event(Outcome.SUCCEEDED),
    "payment_intent.payment_failed": _intent_event(Outcome.FAILED),
    "payment_intent.canceled": _intent_event(Outcome.CANCELED),
    "charge.refunded": _charge_refunded,
    "refund.created": _refund_event,
    "refund.updated": _refund_event,
    "refund.failed": _refund_event,
    "charge.refund.updated": _refund_event,
    "charge.dispute.created": _dispute,
    "charge.dispute.closed": _dispute,
}
assert set(HANDLERS) == EVENT_TYPES, "every event the webhook records has its handling"


def stripe_event_handle(*, stripe_event_id: str) -> str:
    """Handle a recorded event (the task of StripeEventReceived, once per
    event) and record what it did."""
    event = StripeEvent.objects.get(event_id=stripe_event_id)
    with transaction.atomic():
        outcome = HANDLERS[event.type](event.payload["data"]["object"])
        StripeEvent.objects.filter(pk=event.pk).update(outcome=outcome[:1000],
                                                       handled_at=timezone.now())
    logger.info("Stripe event %s (%s): %s", event.event_id, event.type, outcome)
    return outcome


# --- Reconciliation ---------------------------------------------------------------------------

# Payments older than this are left alone: their order has long expired, or
# staff have dealt with it in Stripe's dashboard.
RECONCILE_WITHIN = timedelta(days=7)


def stripe_payments_reconcile(*, limit: int = 200) -> int:
    """Ask Stripe about each PaymentIntent whose payment is still PENDING on
    an open unpaid order STRIPE_RECONCILE_AFTER after it was made (or
    DECLINED: the customer may have paid with another card since), and apply
    what it says as its webhook would have; a lost webhook heals so. Answers
    how many were asked about, oldest first; Stripe out of reach ends the
    round, and the next one (every STRIPE_RECONCILE_EVERY) starts again."""
    now = timezone.now()
    quiet = list(
        Payment.objects.filter(
            gateway=STRIPE, status__in=[Payment.Status.PENDING, Payment.Status.DECLINED],
            order__status=OrderStatus.PENDING,
            created_at__lte=now - settings.STRIPE_RECONCILE_AFTER,
            created_at__gte=now - RECONCILE_WITHIN,
        ).exclude(reference="").order_by("created_at", "pk")
        .values_list("reference", flat=True)[:limit]
    )
    gateway, asked = Gateway(), 0
    for reference in quiet:
        try:
            intent = gateway.retrieve(charge_reference=reference)
        except GatewayUnavailable:
            logger.warning("Stripe: reconciliation stopped after %d of %d: Stripe is "
                           "unavailable.", asked, len(quiet))
            break
        asked += 1
        outcome = payment_intent_apply(intent=intent, outcome=outcome_of(intent))
        logger.info("Stripe: reconciled %s: %s", reference, outcome)
    return asked
