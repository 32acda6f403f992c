"""Money given back on an order, through the gateway that took it.

What may be refunded is what the customer paid, shipping and tax included,
less what has been refunded already; never more. Each call is its own
Refund row with its own idempotency key, so two refunds of the same amount
are two refunds, and a gateway that sees one call twice refunds once.

The gateway is called inside the transaction, with the order's row locked:
a second refund of the same order waits, then finds the first one counted.
A gateway that cannot be reached rolls everything back and nothing is
recorded; the refund is simply not made and can be asked again. (The
dummy gateway refunds at once; a gateway that accepts a refund and
confirms it later leaves its Refund PENDING, counted as given back.)
"""

import uuid
from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.core.errors import ServiceError
from apps.core.money import Money
from apps.core.validation import Problems, clean_price, clean_text, decimal_limits, max_length
from apps.orders.models import Order, Payment, Refund
from apps.orders.services.locks import order_locked
from apps.orders.services.transitions import check_allowed, order_transition
from apps.orders.transitions import Move
from apps.payments import registry
from apps.payments.gateways import GatewayUnavailable, PaymentGateway, RefundStatus

UNAVAILABLE = "The payment gateway could not be reached; nothing was changed. Try again."


class RefundUnavailable(ServiceError):
    """The gateway could not be reached: nothing was recorded, and the same
    refund may be asked again (a caller that retries by itself tells this
    apart from a refusal)."""


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
    with transaction.atomic():
        return refund_locked(order=order_locked(order=order), actor=actor, amount=amount,
                             reason=reason)


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
        raise ServiceError(f"The payment gateway refused the refund: {result.message}")
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
