"""Cancelling an order, by its customer, by the order desk or by the expiry
of an unpaid order: one function underneath, so that all give back the same
things.

While an order is PENDING or PROCESSING (the table says so, not this
module) it can be cancelled: its stock allocation is released, its coupon
use given back, a charge still waiting for the customer is given up, and
what was paid is refunded in full through the gateway (REFUNDED). All in one
transaction with the order's row locked, so a second cancellation waits,
then finds the order cancelled (INVALID_TRANSITION), or, coming between the
first's committed attempt and its cancellation, finds that attempt on its
way (INVALID_TRANSITION too, saying so), and nothing is given back twice.

The refund is an attempt committed first (apps.orders.services.
refund_attempts), under the order's lock, then asked inside the
cancellation's transaction. A gateway out of reach is PAYMENT_UNAVAILABLE
and cancels nothing, but the attempt stays, REQUESTED with its key: the
next cancellation (or beat, or the webhook) settles it before anything
else, so a refund made whose answer was lost is never made again. A refund
the gateway refuses refuses the cancellation, and the attempt is kept
FAILED.
"""

from typing import Any

from django.db import transaction

from apps.core.validation import Problems, clean_text, max_length
from apps.discounts.services import coupon_use_release
from apps.core.errors import ErrorCode, ServiceError
from apps.orders.models import Order, OrderEvent, Refund
from apps.orders.services.charges import payments_give_up
from apps.orders.services.locks import order_locked, stock_release
from apps.orders.services.refund_attempts import (
    RefundRefused,
    UNAVAILABLE,
    RefundUnavailable,
    attempt_apply,
    attempt_ask,
    attempt_unanswered,
    attempts_lost,
    attempts_settle,
    left_to_refund,
    reserved,
)
from apps.orders.services.refunds import refund_attempt_for, refuse_if_failed
from apps.orders.services.transitions import order_transition
from apps.payments.gateways import RefundStatus
from apps.orders.transitions import REFUNDABLE, Move


def order_cancel(*, order: Order, actor: Any) -> Order:
    """The customer changes their mind (the caller has checked it is theirs)."""
    return _cancel(order=order, actor=actor, message="Cancelled by the customer.")


def order_admin_cancel(*, order: Order, actor: Any, reason: str | None = None) -> Order:
    """The order desk cancels, saying why if it likes (the history keeps it)."""
    problems = Problems()
    reason = clean_text(problems, "reason", reason, limit=max_length(OrderEvent, "message"))
    problems.raise_any()
    return _cancel(order=order, actor=actor, message=reason or "Cancelled by the shop.")


def order_expire(*, order: Order, message: str) -> Order:
    """No one acted: the order was left unpaid (apps.orders.services.expiry),
    and `message` says for how long."""
    return _cancel(order=order, actor=None, message=message)


def _cancel(*, order: Order, actor: Any, message: str) -> Order:
    refuse_if_failed(attempts_settle(order=order))  # an earlier one's lost answer first
    attempt = _refund_attempt(order=order, actor=actor, message=message)
    try:
        return _cancel_locked(order=order, actor=actor, message=message, attempt=attempt)
    except RefundRefused as refused:
        with transaction.atomic():
            attempt_apply(order=order_locked(order=order), result=refused.result,
                          attempt=Refund.objects.select_for_update().get(pk=refused.attempt.pk))
        raise
    except RefundUnavailable:
        if attempt is not None:  # kept, to be settled: marked after the rollback
            attempt_unanswered(attempt=attempt)
        raise
    except ServiceError:
        if attempt is not None:  # refused before the gateway was asked: withdrawn
            Refund.objects.filter(pk=attempt.pk, status=Refund.Status.REQUESTED).delete()
        raise


@transaction.atomic
def _refund_attempt(*, order: Order, actor: Any, message: str) -> Refund | None:
    """The refund of all that is left of a paid order, committed before the
    gateway is asked; None when there is nothing to refund."""
    order = order_locked(order=order, move=Move.CANCEL)
    if order.payment_status in REFUNDABLE and left_to_refund(order) > 0:
        return refund_attempt_for(order=order, actor=actor, reason=message)
    return None


@transaction.atomic
def _cancel_locked(*, order: Order, actor: Any, message: str, attempt: Refund | None) -> Order:
    order = order_locked(order=order, move=Move.CANCEL)
    stock_release(order=order, actor=actor, shipped=False)
    coupon_use_release(order_id=order.pk)
    order = order_transition(order=order, move=Move.CANCEL, actor=actor, message=message)
    if attempt is not None:
        result = attempt_ask(attempt=attempt)
        if result.status == RefundStatus.FAILED:
            raise RefundRefused(result.message, attempt=attempt, result=result)
        return attempt_apply(order=order, result=result, actor=actor,
                             attempt=Refund.objects.select_for_update().get(pk=attempt.pk))
    if order.payment_status in REFUNDABLE:
        if reserved(order) > 0:
            _refuse_while_refunding(order)
        return order_transition(order=order, move=Move.REFUND_ALL, actor=actor,
                                message="Nothing was left to refund.")
    # A charge still open to the customer (waiting for them, or declined but
    # open to another card) is given up, so that it cannot go through on a
    # cancelled order, which then was not charged.
    return payments_give_up(order=order, actor=actor,
                            message="The payment waiting for the customer was cancelled.")


def _refuse_while_refunding(order: Order) -> None:
    """Another request's attempt holds back what this cancellation would
    refund. One whose answer was lost meanwhile is PAYMENT_UNAVAILABLE (the
    next try settles it first); one still on its way belongs to a refund or
    cancellation that committed its attempt but has not yet taken the order's
    lock again, so this one is refused as a second cancellation is once the
    first has applied (INVALID_TRANSITION), saying why."""
    if attempts_lost(order=order).exists():
        raise RefundUnavailable(UNAVAILABLE)
    raise ServiceError("The order's payment is being refunded by another request; try again "
                       "once it is answered.", code=ErrorCode.INVALID_TRANSITION)
