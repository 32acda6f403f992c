"""checkoutComplete: a cart becomes an order, once.

Everything happens in one transaction, in this order:

1. lock the cart's row. A cart already COMPLETED answers the order it made
   (Order.cart_token is unique): the same cart completed twice, or twice at
   once, gives one order, since the second call waits for the first's lock
   and then finds the cart checked out;
2. price it again (apps.checkout.pricing) and check it: an email, an
   address, a shipping method, lines, and no warning that blocks (a line no
   longer on sale, too little stock, a coupon that stopped applying, a
   method that no longer serves); every problem is named at once;
3. place the order (apps.orders.services.placement), a snapshot of that
   pricing;
4. allocate the stock of every line (apps.inventory.services.
   stock_allocate_many: the rows of all lines locked in one statement,
   ordered by variant and warehouse, so concurrent checkouts never
   deadlock; INSUFFICIENT_STOCK names the line);
5. record the coupon's use (apps.discounts.services.coupon_use_record,
   which locks the coupon's row and counts again, so racing checkouts take
   its last uses one at a time);
6. charge (apps.orders.services.charges.payment_charge);
7. close the cart (COMPLETED).

Why the charge is inside the transaction: a declined payment must change
nothing, and a payment must never be taken for an order that does not
exist. Inside, a decline (or a gateway error) rolls back the order, the
stock and the coupon's use together. The dummy gateway answers at once.
The key comes from the cart's token and the payment token, so should the
commit fail after the gateway said yes, completing the cart again with the
same card meets the same charge rather than a second one, while a retry
with another card after a decline is a new attempt.

A gateway that charges after the commit (Stripe: its PaymentIntent is a
call across the network, which may be slow or fail, and answers "pending"
while the customer confirms in the browser) skips step 6: the order is
committed PENDING with its stock, and the charge is made after, outside
the stock's locks (see checkout_complete).
"""

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from apps.accounts.services import ADDRESS_FIELDS
from apps.checkout.models import Cart, CartState
from apps.checkout.pricing import BLOCKING, PricedCart, WarningCode, price_cart
from apps.checkout import throttling
from apps.checkout.selectors import signed_in
from apps.core import metrics
from apps.core.errors import ErrorCode, FieldError, ServiceError
from apps.core.validation import Problems
from apps.discounts.services import coupon_use_record
from apps.inventory.services import stock_allocate_many
from apps.orders.models import Order, Payment
from apps.orders.services.charges import order_pay, payment_charge
from apps.orders.services.placement import LineDraft, OrderDraft, order_place
from apps.payments.gateways import PaymentGateway, charges_after_commit
from apps.payments.registry import gateway_named

from .access import Token, cart_locked, refuse_closed


@dataclass(frozen=True, slots=True)
class Checkout:
    order: Order
    payment: Payment | None


def idempotency_key(cart: Cart, gateway: PaymentGateway, payment_token: str) -> str:
    """One charge per cart and card (see the module's docstring)."""
    card = hashlib.sha256(f"{gateway.id}:{payment_token}".encode()).hexdigest()[:16]
    return f"checkout:{cart.token}:{card}"


def checkout_problems(priced: PricedCart) -> Problems:
    """Why the cart cannot be checked out yet, each on the cart field to fix
    (a line as `lines.N`, its place in the cart's lines)."""
    problems = Problems()
    cart = priced.cart
    if not priced.lines:
        problems.add("lines", "The cart is empty.")
    if not cart.email:
        problems.add("email", "Give an email address for the order's confirmation.",
                     ErrorCode.REQUIRED)
    if not cart.has_shipping_address:
        problems.add("shipping_address", "Give a shipping address.", ErrorCode.REQUIRED)
    if priced.lines and cart.shipping_method_id is None:
        problems.add("shipping_method", "Choose a shipping method.", ErrorCode.REQUIRED)
    places = {line.line.pk: index for index, line in enumerate(priced.lines)}
    for warning in priced.blocking_warnings:
        if warning.line_id is not None:
            field = f"lines.{places[warning.line_id]}"
        else:
            field = "coupon" if warning.code == WarningCode.COUPON_NOT_APPLICABLE else \
                "shipping_method"
        problems.add(field, warning.message, BLOCKING[warning.code])
    return problems


def _draft(priced: PricedCart, *, customer: Any) -> OrderDraft:
    cart = priced.cart
    return OrderDraft(
        cart_token=cart.token, user=customer, email=cart.email,
        address={name: getattr(cart, f"shipping_{name}") for name in ADDRESS_FIELDS},
        shipping_method=priced.shipping_method.method if priced.shipping_method else None,
        shipping_price=priced.shipping_price, coupon=cart.coupon if cart.coupon_id else None,
        subtotal=priced.subtotal, discount=priced.discount, tax=priced.tax, total=priced.total,
        lines=[LineDraft(variant=line.line.variant, quantity=line.quantity,
                         unit_price=line.unit_price, discount=line.discount, tax=line.tax,
                         tax_rate=line.tax_rate)
               for line in priced.lines],
    )


def _within(field: str, error: ServiceError) -> ServiceError:
    """The gateway's refusal on the fields of `payment` the client sent."""
    return ServiceError(errors=[
        FieldError(field=f"{field}.{e.field}" if e.field else field, message=e.message,
                   code=e.code) for e in error.errors
    ])


def _place(*, user: Any, token: Token, gateway: PaymentGateway, payment_token: str,
           charge: bool, client_address: str) -> tuple[Checkout, bool]:
    """The checkout, and whether this call placed its order. Without `charge`
    the order is placed unpaid (the caller pays for it after the commit)."""
    cart = cart_locked(user=user, token=token)
    throttling.refuse_throttled(email=cart.email, client_address=client_address)
    if cart.state == CartState.COMPLETED:
        order = Order.objects.get(cart_token=cart.token)
        latest = order.payments.order_by("-created_at", "-id").first()
        return Checkout(order=order, payment=latest), False
    refuse_closed(cart)
    priced = price_cart(cart=cart)
    checkout_problems(priced).raise_any()
    customer = cart.user if cart.user_id else (user if signed_in(user) else None)
    order = order_place(draft=_draft(priced, customer=customer), actor=customer)
    stock_allocate_many(lines=[(line.line.variant, line.quantity) for line in priced.lines],
                        reference=f"order:{order.number}")
    if cart.coupon is not None:
        coupon_use_record(coupon=cart.coupon, order_id=order.pk, email=cart.email, user=customer)
    payment = None
    if charge:
        try:
            payment = payment_charge(order=order, gateway=gateway, token=payment_token,
                                     idempotency_key=idempotency_key(cart, gateway,
                                                                     payment_token),
                                     actor=customer)
        except ServiceError as error:
            raise _within("payment", error) from None
        _refuse_declined(payment, email=cart.email, client_address=client_address)
    cart.state = CartState.COMPLETED
    cart.save(update_fields=["state", "updated_at"])
    return Checkout(order=order, payment=payment), True


def _refuse_declined(payment: Payment | None, *, email: str, client_address: str) -> None:
    """A declined payment the customer cannot retry on is PAYMENT_DECLINED
    (one still open to another card, a Stripe PaymentIntent, is answered),
    and counted against the email and the address (card testing)."""
    if payment is not None and payment.status == Payment.Status.DECLINED and \
            not payment.client_secret:
        throttling.decline_record(email=email, client_address=client_address)
        raise ServiceError(payment.message or "The payment was declined.",
                           code=ErrorCode.PAYMENT_DECLINED, field="payment")


def checkout_complete(*, user: Any, token: Token, gateway: str, payment_token: str,
                      client_address: str = "") -> Checkout:
    """Place the cart's order and pay for it, or change nothing (see
    _checkout_complete), counted by outcome for the shop's metrics."""
    try:
        placed = _checkout_complete(user=user, token=token, gateway=gateway,
                                    payment_token=payment_token, client_address=client_address)
    except ServiceError as error:
        metrics.checkout_finished(outcome=error.errors[0].code if error.errors else "INVALID")
        raise
    except Exception:
        metrics.checkout_finished(outcome="INTERNAL_SERVER_ERROR")
        raise
    metrics.checkout_finished(outcome=metrics.COMPLETED)
    return placed


def _checkout_complete(*, user: Any, token: Token, gateway: str, payment_token: str,
                       client_address: str) -> Checkout:
    """Place the cart's order and pay for it, or change nothing (see the
    module's docstring). A gateway that is not enabled is INVALID on
    `payment.gateway`; a declined payment is PAYMENT_DECLINED; a gateway that
    cannot be reached is PAYMENT_UNAVAILABLE. After too many declines for the
    cart's email or from `client_address` (the request's, for the card-testing
    throttle of apps.checkout.throttling; empty counts none), THROTTLED.

    A gateway that charges after the commit (Stripe: a call across the
    network, answered "pending") is called only once the order is committed,
    PENDING with its stock allocated, outside the stock's locks: when it
    cannot be reached the order stays PENDING, unpaid, and completing the
    same cart again answers the same order and tries again
    (apps.orders.services.charges.order_pay), as it does after a failed
    payment (the same PaymentIntent, for another card) or with another
    gateway (the open charge given up first)."""
    payment_gateway = gateway_named(gateway, field="payment.gateway")
    after_commit = charges_after_commit(payment_gateway)
    with transaction.atomic():
        placed, new = _place(user=user, token=token, gateway=payment_gateway,
                             payment_token=payment_token, charge=not after_commit,
                             client_address=client_address)
    if new and not after_commit:
        return placed
    order = placed.order
    try:
        payment = order_pay(order=order, gateway=payment_gateway, token=payment_token,
                            actor=order.user)
    except ServiceError as error:
        raise _within("payment", error) from None
    _refuse_declined(payment, email=order.email, client_address=client_address)
    return Checkout(order=Order.objects.get(pk=order.pk), payment=payment)
