"""Shipping an order and its delivery.

Fulfilling ships every line at once (there are no partial shipments): each
variant's units leave on-hand stock and their allocation is released, as
one FULFILMENT movement per stock row, in the transaction that moves the
order to SHIPPED with its tracking number.
"""

from typing import Any

from django.db import transaction

from apps.core.validation import Problems, clean_text, max_length
from apps.orders.models import Order
from apps.orders.services.locks import order_locked, stock_release
from apps.orders.services.transitions import order_transition
from apps.orders.transitions import Move


@transaction.atomic
def order_fulfil(*, order: Order, actor: Any, tracking_number: str | None = None) -> Order:
    """PROCESSING → SHIPPED, the stock leaving the warehouse."""
    problems = Problems()
    tracking = clean_text(problems, "tracking_number", tracking_number,
                          limit=max_length(Order, "tracking_number"))
    problems.raise_any()
    order = order_locked(order=order, move=Move.FULFIL)
    stock_release(order=order, actor=actor, shipped=True)
    message = f"Shipped, tracking number {tracking}." if tracking else "Shipped."
    return order_transition(order=order, move=Move.FULFIL, actor=actor, message=message,
                            tracking_number=tracking)


def order_mark_delivered(*, order: Order, actor: Any) -> Order:
    """SHIPPED → DELIVERED: the carrier says it arrived."""
    return order_transition(order=order, move=Move.DELIVER, actor=actor, message="Delivered.")
