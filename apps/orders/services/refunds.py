"""Money given back on an order, through the gateway that took it.

What may be refunded is what the customer paid, shipping and tax included,
less what has been refunded already and what attempts still waiting for the
gateway hold back; never more. Each call is its own Refund with its own
idempotency key, so two refunds of the same amount are two refunds, and a
gateway that sees one call twice refunds once.

A refund is an attempt first (apps.orders.services.refund_attempts): the
Refund REQUESTED, written and committed under the order's lock, so that a
second refund of the same order waits, then finds the first one held back;
then the gateway is asked, outside the lock, and its answer applied under
the lock again. A gateway that does not answer leaves the attempt REQUESTED
(PAYMENT_UNAVAILABLE): asking again settles that attempt, with its key, and
makes no other. A refund the gateway refuses is FAILED, counted nowhere,
with a note and RefundFailed for the order desk, and the caller is refused
(INVALID). One that fails after it was counted (Stripe reports it `failed`
later) is given back to what may be refunded (refund_failed).
"""

import logging
from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.core import events
from apps.core.errors import ServiceError
from apps.core.money import Money
from apps.core.validation import Problems, clean_price, clean_text, decimal_limits, max_length
from apps.orders.models import Order, Payment, Refund
from apps.orders.services.locks import order_locked
from apps.orders.services.refund_attempts import (
    RefundRefused,
    RefundUnavailable,
    attempt_open,
    attempt_settle,
    attempts_settle,
    left_to_refund,
)
from apps.orders.services.transitions import check_allowed, order_note, order_transition
from apps.orders.transitions import Move
from apps.payments.gateways import RefundResult, RefundStatus

logger = logging.getLogger(__name__)

__all__ = ["RefundRefused", "RefundUnavailable", "left_to_refund", "order_refund",
           "refund_attempt_for", "refund_failed"]


def order_refund(
    *, order: Order, actor: Any, amount: Decimal | None = None, reason: str = ""
) -> Order:
    """Give back `amount` of what the customer paid, or all that is left
    when it is None: PARTIALLY_REFUNDED while something is left, REFUNDED
    once nothing is.

    Asked while an earlier refund of the order has no answer yet (its call
    answered PAYMENT_UNAVAILABLE), it is asking that one again: the earlier
    attempt is settled and the order answered as it then is, and no other
    refund is made (ask once more to refund more)."""
    earlier = attempts_settle(order=order)
    if earlier:
        refuse_if_failed(earlier)
        return Order.objects.get(pk=order.pk)
    with transaction.atomic():
        attempt = refund_attempt_for(order=order_locked(order=order), actor=actor,
                                     amount=amount, reason=reason)
    settled, result = attempt_settle(attempt_id=attempt.pk, actor=actor)
    refuse_if_failed([result] if result else [])
    return settled


def refuse_if_failed(results: list[RefundResult]) -> None:
    """The caller is refused (INVALID) when the gateway refused a refund it
    asked for; the FAILED Refund is recorded already."""
    for result in results:
        if result.status == RefundStatus.FAILED:
            raise ServiceError(f"The payment gateway refused the refund: {result.message}")


def refund_attempt_for(
    *, order: Order, actor: Any, amount: Decimal | None = None, reason: str = "",
    key: str | None = None
) -> Refund:
    """The attempt at refunding `amount` (all that is left when None) of an
    order read under its lock, checked against what may be refunded; the
    caller commits it, then asks the gateway."""
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
    return attempt_open(payment=payment, amount=amount, reason=reason, actor=actor, key=key)


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
