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

from typing import Any

from django.db import transaction

from apps.orders.models import Order, Payment
from apps.orders.services.transitions import order_transition
from apps.orders.transitions import Move
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
    order_transition(order=order, move=move, actor=actor, message=message)
    return payment
