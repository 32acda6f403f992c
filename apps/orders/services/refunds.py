"""Money given back on an order, through the gateway that took it.

What may be refunded is what the customer paid, shipping and tax included,
less what has been refunded already; never more. Each call is its own
Refund row with its own idempotency key, so two refunds of the same amount
are two refunds, and a gateway that sees one call twice refunds once.

The gateway is called inside the transaction, with the order's row locked:
a second refund of the same order waits, then finds the first one counted.
A gateway that cannot be reached rolls everything back and nothing is
recorded (PAYMENT_UNAVAILABLE); the refund is simply not made and can be
asked again. (The dummy gateway refunds at once; a gateway that accepts a
refund and confirms it later leaves its Refund PENDING, counted as given
back.)

A refund the gateway refuses is not counted either: the transaction rolls
back and the caller is refused, and the refusal is then kept on its own, a
FAILED Refund with a note and RefundFailed for the order desk
(refund_refused_record). One that fails after it was counted (Stripe
reports it `failed` later) is given back to what may be refunded
(refund_failed).
"""

import logging
import uuid
from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.core import events
from apps.core.errors import ServiceError
from apps.core.money import Money
from apps.core.validation import Problems, clean_price, clean_text, decimal_limits, max_length
from apps.orders.models import Order, Payment, Refund
from apps.orders.services.locks import order_locked
from apps.orders.services.transitions import check_allowed, order_note, order_transition
from apps.orders.transitions import Move
from apps.payments import registry
from apps.payments.gateways import GatewayUnavailable, PaymentGateway, RefundStatus

logger = logging.getLogger(__name__)

UNAVAILABLE = "The payment gateway could not be reached; nothing was changed. Try again."


class RefundUnavailable(GatewayUnavailable):
    """The gateway could not be reached: nothing was recorded, and the same
    refund may be asked again (a caller that retries by itself tells this
    apart from a refusal). Coded PAYMENT_UNAVAILABLE, as every outage is, so
    orderRefund and orderCancel answer the client a retryable error."""


class RefundRefused(ServiceError):
    """The gateway refused the refund (nothing left on the charge, a dispute,
    an amount it does not take, a refund it made `failed` at once). The
    caller's transaction rolls back, so nothing counts; `refund` is the
    record as it was asked for (no longer in the database), for
    refund_refused_record."""

    def __init__(self, message: str, *, refund: Refund, order_id: int):
        super().__init__(message)
        self.refund = refund
        self.order_id = order_id


def gateway_of(payment: Payment) -> PaymentGateway:
    """The gateway a payment was taken through. One since switched off in
    settings cannot give money back: the staff must do it on its side."""
    try:
        return registry.gateway_named(payment.gateway)
    except ServiceError:
        raise ServiceError(
            f'The payment was taken through "{payment.gateway}", which is no longer enabled.'
        ) from None


def left_to_refund(order: Order) -> Decimal:
    return order.total - order.total_refunded


def order_refund(
    *, order: Order, actor: Any, amount: Decimal | None = None, reason: str = ""
) -> Order:
    """Give back `amount` of what the customer paid, or all that is left
    when it is None: PARTIALLY_REFUNDED while something is left, REFUNDED
    once nothing is."""
    try:
        with transaction.atomic():
            return refund_locked(order=order_locked(order=order), actor=actor, amount=amount,
                                 reason=reason)
    except RefundRefused as refused:
        refund_refused_record(refused=refused)
        raise


def refund_locked(
    *, order: Order, actor: Any, amount: Decimal | None = None, reason: str = ""
) -> Order:
    """order_refund on an order already read under its lock (a cancellation
    refunds inside its own transaction)."""
    check_allowed(order=order, move=Move.REFUND_ALL)
    left = left_to_refund(order)
    problems = Problems()
    reason = clean_text(problems, "reason", reason, limit=max_length(Refund, "reason"))
    if amount is not None:
        amount = clean_price(problems, "amount", amount, column=decimal_limits(Refund, "amount"),
                             required=True, currency=order.currency)
        problems.raise_any()
        assert amount is not None
        if amount <= 0:
            raise ServiceError("A refund must be more than zero.", field="amount")
    problems.raise_any()
    if amount is None:
        amount = left
    if amount > left:
        raise ServiceError(
            f"At most {Money.of(left, order.currency)} is left to refund.", field="amount"
        )
    if amount <= 0:
        raise ServiceError("Nothing is left to refund.", field="amount")
    payment = order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-pk").first()
    if payment is None:
        raise ServiceError("The order has no payment to refund.")
    refund = Refund.objects.create(
        payment=payment, amount=amount, idempotency_key=f"refund-{uuid.uuid4().hex}",
        reason=reason, actor=actor if getattr(actor, "pk", None) else None,
    )
    try:
        result = gateway_of(payment).refund(
            charge_reference=payment.reference, amount=Money.of(amount, order.currency),
            idempotency_key=refund.idempotency_key,
        )
    except GatewayUnavailable:
        raise RefundUnavailable(UNAVAILABLE) from None
    if result.status == RefundStatus.FAILED:
        refund.reference = result.reference
        refund.reason = (f"{reason} Refused: {result.message}" if reason
                         else f"Refused: {result.message}")[:1000]
        raise RefundRefused(f"The payment gateway refused the refund: {result.message}",
                            refund=refund, order_id=order.pk)
    refund.status = (Refund.Status.SUCCEEDED if result.status == RefundStatus.SUCCEEDED
                     else Refund.Status.PENDING)
    refund.reference = result.reference
    refund.save(update_fields=["status", "reference"])
    refunded = order.total_refunded + amount
    return order_transition(
        order=order, move=Move.REFUND_ALL if refunded == order.total else Move.REFUND_PART,
        actor=actor, message=f"Refunded {Money.of(amount, order.currency)}.",
        total_refunded=refunded,
    )


def refund_refused_record(*, refused: RefundRefused) -> Refund:
    """Keep a refusal once the transaction that asked for the refund has
    rolled back: a FAILED Refund (the gateway may keep its own failed refund,
    under the same key), a note in the order's history, and RefundFailed, so
    that the order desk hears of it also when a customer's cancellation
    asked. Nothing counts as refunded."""
    asked = refused.refund
    with transaction.atomic():
        order = order_locked(order=Order(pk=refused.order_id))
        record = Refund.objects.create(
            payment_id=asked.payment_id, amount=asked.amount, status=Refund.Status.FAILED,
            reference=asked.reference, idempotency_key=asked.idempotency_key,
            reason=asked.reason, actor_id=asked.actor_id,
        )
        order_note(order=order, message=f"The refund of {order.money(asked.amount)} was "
                                        f"refused: {refused.errors[0].message}. Nothing was "
                                        "refunded.")
        events.publish(events.RefundFailed(order_id=order.pk, refund_id=record.pk,
                                           reason=refused.errors[0].message))
    logger.warning("The refund of %s on order %s was refused: %s", asked.amount, order.number,
                   refused)
    return record


def refund_failed(*, order: Order, refund: Refund, reason: str) -> Order:
    """A refund counted as given back failed afterwards at the gateway (Stripe
    reports it `failed`: the card was closed, the bank sent it back). On
    `order` and `refund`, both read under their locks: the Refund FAILED,
    its amount no longer in the order's total refunded and so to refund
    again (REFUND_FAIL: PAID; REFUND_FAIL_PART: PARTIALLY_REFUNDED while
    other refunds stand), the history saying why, and RefundFailed for the
    order desk. A refund already FAILED changes nothing, so a report that
    arrives twice, or after another, never counts twice."""
    if refund.status == Refund.Status.FAILED:
        return order
    counted = refund.amount <= order.total_refunded
    refund.status = Refund.Status.FAILED
    refund.save(update_fields=["status"])
    message = (f"The refund of {order.money(refund.amount)} through {refund.payment.gateway} "
               f"failed ({reason}): it is no longer counted as refunded; refund it again or "
               "give the money back another way.")
    logger.error("Refund %s of order %s failed (%s).", refund.pk, order.number, reason)
    if counted:
        refunded = order.total_refunded - refund.amount
        order = order_transition(
            order=order, move=Move.REFUND_FAIL_PART if refunded else Move.REFUND_FAIL,
            message=message, total_refunded=refunded)
    else:  # never counted (recorded by hand): nothing to give back
        order_note(order=order, message=message)
    events.publish(events.RefundFailed(order_id=order.pk, refund_id=refund.pk, reason=reason))
    return order
