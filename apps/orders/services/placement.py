"""Placing an order: the snapshot of a priced cart, written once.

The checkout (apps.checkout.services.complete) prices the cart and hands
the result over as an OrderDraft of plain values; orders know nothing of
carts. Everything a customer was shown is copied: names, SKUs, prices, the
address, the shipping method's name, the coupon's code and the tax, so that
later changes to the catalog, the shipping table or the coupon never
rewrite what was bought.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.accounts.services import ADDRESS_FIELDS
from apps.catalog.models import ProductVariant
from apps.core import events
from apps.core.money import Money
from apps.discounts.models import Coupon
from apps.orders.models import Order, OrderEvent, OrderLine, OrderStatus, PaymentStatus
from apps.shipping.models import ShippingMethod


@dataclass(frozen=True, slots=True)
class LineDraft:
    variant: ProductVariant  # with its product
    quantity: int
    unit_price: Money
    discount: Money
    tax: Money
    tax_rate: Decimal  # percent, as the tax table has it

    @property
    def total(self) -> Money:
        """The line's amount after its discount; tax comes on top."""
        return self.unit_price * self.quantity - self.discount


@dataclass(frozen=True, slots=True)
class OrderDraft:
    """An order as the checkout priced it. The amounts are rounded and add up:
    total = subtotal − discount + shipping_price + tax."""

    cart_token: uuid.UUID
    user: Any  # the customer, or None for a guest
    email: str
    address: Mapping[str, str]  # the ADDRESS_FIELDS
    shipping_method: ShippingMethod | None
    shipping_price: Money
    coupon: Coupon | None
    subtotal: Money
    discount: Money
    tax: Money
    total: Money
    lines: Sequence[LineDraft]


def order_number(order: Order) -> str:
    """Human-friendly and unique: the row's id past ORDER_NUMBER_OFFSET, so a
    shop's first order is not number 1."""
    return str(order.pk + settings.ORDER_NUMBER_OFFSET)


@transaction.atomic
def order_place(*, draft: OrderDraft, actor: Any = None) -> Order:
    """Write the order, its lines and its PLACED event, and publish
    OrderPlaced for after the commit. The order is PENDING and NOT_CHARGED
    until its payment moves it (apps.orders.services.charges)."""
    currency = draft.total.currency
    order = Order.objects.create(
        cart_token=draft.cart_token,
        user=draft.user if getattr(draft.user, "pk", None) else None,
        email=draft.email,
        currency=currency,
        subtotal=draft.subtotal.amount,
        discount=draft.discount.amount,
        shipping_price=draft.shipping_price.amount,
        tax=draft.tax.amount,
        total=draft.total.amount,
        shipping_method=draft.shipping_method,
        shipping_method_name=draft.shipping_method.name if draft.shipping_method else "",
        coupon=draft.coupon,
        coupon_code=draft.coupon.code if draft.coupon else "",
        **{f"shipping_{name}": draft.address.get(name, "") for name in ADDRESS_FIELDS},
    )
    order.number = order_number(order)
    order.save(update_fields=["number"])
    OrderLine.objects.bulk_create([
        OrderLine(
            order=order, variant=line.variant, product=line.variant.product,
            product_name=line.variant.product.name, variant_name=line.variant.name,
            sku=line.variant.sku, quantity=line.quantity, unit_price=line.unit_price.amount,
            discount=line.discount.amount, total=line.total.rounded().amount,
            tax=line.tax.amount,
            # A fraction, to the column's four places (8.875 % is 0.0888
            # there; the line's tax itself is exact).
            tax_rate=(line.tax_rate / 100).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP),
        )
        for line in draft.lines
    ])
    OrderEvent.objects.create(
        order=order, type=OrderEvent.Type.PLACED,
        actor=actor if getattr(actor, "pk", None) else None,
        to_status=OrderStatus.PENDING, to_payment_status=PaymentStatus.NOT_CHARGED,
    )
    events.publish(events.OrderPlaced(order_id=order.pk))
    return order
