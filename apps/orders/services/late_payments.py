"""Money taken for an order already cancelled: refunded at once, never kept.

An order is given up (expired unpaid, cancelled) only once its open charges
are cancelled at their gateway, so this should not happen; but news of a
success can still come for it: a charge that went through while it was
being given up, a payment the shop had written off. The money is then
recorded (PAY_LATE: the order stays CANCELLED, its payment PAID, with a
note saying what was taken) and refunded in full through the gateway that
took it (REFUND_ALL: REFUNDED, with its Refund row), in the transaction of
the news itself, and logged as an error: someone should know why it
happened.

A gateway out of reach leaves the order CANCELLED and PAID, noted once,
with the refund's attempt REQUESTED (apps.orders.services.refund_attempts:
written in the news's transaction, so its key is kept even when the answer
was lost): the expiry's beat task settles it every round
(late_payments_refund), with the same key, until it is made. A refusal for good (the charge is
disputed, refunded by hand in the gateway's dashboard, the gateway no longer
enabled) is recorded as a FAILED Refund with a note for the staff, who give
the money back another way, and is not tried again.
"""

import logging
from enum import StrEnum

from django.db import transaction

from apps.core.errors import ServiceError
from apps.core.money import Money
from apps.orders.models import Order, OrderStatus, Payment, PaymentStatus, Refund
from apps.orders.services.locks import order_locked
from apps.orders.services.refund_attempts import (
    RefundUnavailable,
    attempt_apply,
    attempt_ask,
    attempts_settle,
    new_key,
)
from apps.orders.services.refunds import refund_attempt_for
from apps.orders.services.transitions import order_note, order_transition
from apps.orders.transitions import Move

logger = logging.getLogger(__name__)

REASON = "Paid after the order was cancelled: refunded automatically."


class _Outcome(StrEnum):
    REFUNDED = "refunded"
    REFUSED = "refused"  # for good: the staff's to settle
    UNAVAILABLE = "unavailable"  # to be tried again


def late_payment_refund(*, order: Order, taken: Money, where: str) -> Order:
    """Record and refund `taken`, which `where` (the gateway and its charge,
    "Stripe (pi_...)") took for `order`, CANCELLED and read under its lock,
    whose payment the caller has just recorded as SUCCEEDED."""
    logger.error("%s took %s for order %s after it was cancelled; refunding it.", where, taken,
                 order.number)
    order = order_transition(
        order=order, move=Move.PAY_LATE,
        message=f"{where} took {taken} after the order was cancelled: it is refunded in full.")
    _refund(order, first=True)
    return Order.objects.get(pk=order.pk)


def late_payments_refund(*, limit: int = 200) -> int:
    """Try again the refunds of money taken late that the gateway could not
    make (the order CANCELLED and still PAID), oldest first; answers how many
    were made. A gateway still out of reach ends the round."""
    due = list(Order.objects.filter(status=OrderStatus.CANCELLED,
                                    payment_status=PaymentStatus.PAID)
               .order_by("updated_at", "pk").values_list("pk", flat=True)[:limit])
    made = 0
    for pk in due:
        try:
            if attempts_settle(order=Order(pk=pk)):  # asked before; its answer was lost
                made += Order.objects.filter(pk=pk, payment_status=PaymentStatus.REFUNDED) \
                    .exists()
                continue
        except RefundUnavailable:
            logger.warning("Late refunds stopped at order %s: the gateway is out of reach.", pk)
            break
        with transaction.atomic():
            order = order_locked(order=Order(pk=pk))
            if (order.status, order.payment_status) != (OrderStatus.CANCELLED,
                                                        PaymentStatus.PAID) or _refused(order):
                continue
            outcome = _refund(order, first=False)
        if outcome == _Outcome.UNAVAILABLE:
            logger.warning("Late refunds stopped at order %s: the gateway is out of reach.",
                           order.number)
            break
        if outcome == _Outcome.REFUNDED:
            made += 1
    return made


def _late_payment(order: Order) -> Payment | None:
    # The one refund_locked refunds: the newest that succeeded.
    return order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-pk").first()


def _refused(order: Order) -> bool:
    payment = _late_payment(order)
    return payment is None or payment.refunds.filter(status=Refund.Status.FAILED).exists()


def _refund(order: Order, *, first: bool) -> _Outcome:
    """The full refund, as an attempt written in the caller's transaction,
    whose failure leaves the order PAID rather than undoing the news: noted
    on the first try (the attempt kept, to be settled), and for good when the
    gateway refused."""
    try:
        # One key per payment: should the news's transaction roll back after
        # the gateway made the refund (its handling is retried), the retry
        # asks with the same key and finds that refund.
        payment = _late_payment(order)
        attempt = refund_attempt_for(order=order, actor=None, reason=REASON,
                                     key=f"refund-late-{payment.pk}" if payment else None)
        result = attempt_ask(attempt=attempt)
    except RefundUnavailable as error:
        logger.warning("The late refund of order %s is to be tried again: %s", order.number,
                       error)
        if first:
            order_note(order=order, message=f"The automatic refund could not be made yet "
                                            f"({error}); it is tried again.")
        return _Outcome.UNAVAILABLE
    except ServiceError as error:
        logger.error("The late refund of order %s was refused: %s", order.number, error)
        payment = _late_payment(order)
        if payment is not None:
            Refund.objects.filter(payment=payment, status=Refund.Status.REQUESTED).delete()
            Refund.objects.create(
                payment=payment, amount=payment.amount, status=Refund.Status.FAILED,
                idempotency_key=new_key(),
                reason=f"{REASON} Refused: {error}"[:1000],
            )
        order_note(order=order, message=f"The automatic refund was refused ({error}): give "
                                        "the money back another way.")
        return _Outcome.REFUSED
    attempt_apply(order=order, attempt=attempt, result=result)
    if attempt.status == Refund.Status.FAILED:
        order_note(order=order, message=f"The automatic refund was refused ({result.message}): "
                                        "give the money back another way.")
        return _Outcome.REFUSED
    return _Outcome.REFUNDED
