"""Taking an order's money through its gateway (apps.payments).

A charge is one Payment row and one call of the gateway's `charge`, made
with an idempotency key the caller derives from what is being paid for (the
checkout: its cart), so that repeating the call after a failure answers the
same charge rather than making a second. The answer moves the order through
order_transition: paid at once is PAY (PROCESSING, PAID); pending (Stripe:
the customer confirms in the browser, and a webhook reports back) is
PAYMENT_PENDING, with the client secret kept for the storefront; declined
is PAYMENT_FAIL. The caller decides what a decline means: checkout rolls
everything back, so a declined checkout leaves nothing behind.
"""

import hashlib
from typing import Any

from django.db import IntegrityError, transaction

from apps.orders.models import Order, OrderStatus, Payment, PaymentStatus
from apps.orders.services.locks import order_locked
from apps.orders.services.refund_attempts import gateway_of
from apps.orders.services.transitions import order_transition
from apps.orders.transitions import UNPAID, Move
from apps.payments.gateways import ChargeStatus, PaymentGateway


@transaction.atomic
def payment_charge(*, order: Order, gateway: PaymentGateway, token: str,
                   idempotency_key: str, actor: Any = None) -> Payment:
    """Charge the order's total with the customer's `token`. A ServiceError
    of the gateway (a token it cannot read) and GatewayUnavailable pass
    through to the caller, whose transaction then writes nothing."""
    payment = Payment.objects.create(
        order=order, gateway=gateway.id, amount=order.total, currency=order.currency,
        idempotency_key=idempotency_key,
    )
    if not order.total:
        # Nothing to take (a coupon and free shipping): no gateway takes 0.
        payment.status = Payment.Status.SUCCEEDED
        payment.message = "Nothing to charge."
        payment.save(update_fields=["status", "message", "updated_at"])
        order_transition(order=order, move=Move.PAY, actor=actor, message=payment.message)
        return payment
    result = gateway.charge(amount=order.money(order.total), token=token,
                            reference=order.number or "", idempotency_key=idempotency_key)
    payment.reference = result.reference
    payment.message = result.message
    if result.status == ChargeStatus.SUCCEEDED:
        payment.status = Payment.Status.SUCCEEDED
        move, message = Move.PAY, f"Paid through {gateway.name}."
    elif result.status == ChargeStatus.PENDING:
        payment.status = Payment.Status.PENDING
        payment.client_secret = result.client_secret or ""
        move, message = Move.PAYMENT_PENDING, f"Waiting for the payment through {gateway.name}."
    else:
        payment.status = Payment.Status.DECLINED
        move, message = Move.PAYMENT_FAIL, result.message
    payment.save(update_fields=["status", "reference", "client_secret", "message", "updated_at"])
    if move == Move.PAYMENT_FAIL and order.payment_status == PaymentStatus.FAILED:
        # Declined again (another gateway after a failed one): the order
        # says so already.
        return payment
    order_transition(order=order, move=move, actor=actor, message=message)
    return payment


# A charge the customer may still act on: waiting for them, or declined but
# open to another card (a Stripe PaymentIntent with its client secret).
OPEN = (Payment.Status.PENDING, Payment.Status.DECLINED)


def order_pay(*, order: Order, gateway: PaymentGateway, token: str,
              actor: Any = None) -> Payment | None:
    """Pay for an order already placed (committed, its stock held), as
    checkout does for a gateway that charges after the commit, and again when
    the same cart is completed once more. Answers the payment the customer
    acts on:

    - an order paid, or moved on (cancelled), as it is: its latest payment;
    - a charge of this gateway still open to the customer (Stripe's
      PaymentIntent, pending or declined): that one, so that they confirm
      it, or try another card on it;
    - otherwise a new charge (payment_charge), after the charges of another
      gateway still open are given up (payments_give_up): the customer
      switched gateways.

    The key is derived from the order, its payments so far and the card, so
    a call repeated after the gateway could not be reached (nothing was
    recorded) meets the charge the gateway may have made, and the same call
    made at the same moment finds the first one's record: what to do and the
    key are decided under the order's lock, the charge is made after it."""
    with transaction.atomic():
        order = order_locked(order=order)
        latest = order.payments.order_by("-created_at", "-id").first()
        if order.status != OrderStatus.PENDING or order.payment_status not in UNPAID:
            return latest
        if (latest is not None and latest.gateway == gateway.id and latest.status in OPEN
                and latest.client_secret):
            return latest
        order = payments_give_up(order=order, actor=actor)
        card = hashlib.sha256(f"{gateway.id}:{token}".encode()).hexdigest()[:16]
        key = f"order:{order.token}:{order.payments.count()}:{card}"
    try:
        return payment_charge(order=order, gateway=gateway, token=token, idempotency_key=key,
                              actor=actor)
    except IntegrityError:
        return Payment.objects.get(idempotency_key=key)


def payments_give_up(*, order: Order, actor: Any = None,
                     message: str = "The payment waiting for the customer was given up.",
                     ) -> Order:
    """Cancel at their gateways the order's charges still open to the
    customer (CANCELLED), so that none can go through later; an order whose
    payment was pending is then NOT_CHARGED (PAYMENT_CANCEL, with `message`).
    A gateway that will not give one up (Stripe: a bank debit processing, a
    payment just taken) refuses with INVALID_TRANSITION, one out of reach is
    PAYMENT_UNAVAILABLE, and nothing is changed."""
    with transaction.atomic():
        order = order_locked(order=order)
        for payment in order.payments.filter(status__in=OPEN).exclude(reference=""):
            gateway_of(payment).cancel(charge_reference=payment.reference)
            payment.status = Payment.Status.CANCELLED
            payment.save(update_fields=["status", "updated_at"])
        if order.payment_status == PaymentStatus.PENDING:
            order = order_transition(order=order, move=Move.PAYMENT_CANCEL, actor=actor,
                                     message=message)
    return order
