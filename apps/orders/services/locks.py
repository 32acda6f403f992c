"""The order in which an order's writes take their locks: the order's row
first, then the stock rows of its lines, variant by variant in id order (and
each variant's rows by warehouse, apps.inventory.services), the order
checkout allocates in. Writers that take their locks in one order cannot
deadlock; checkout never locks an order row that already exists."""

from typing import Any

from apps.catalog.models import ProductVariant
from apps.inventory import services as inventory
from apps.orders.models import Order, OrderLine
from apps.orders.services.transitions import check_allowed
from apps.orders.transitions import Move


def order_locked(*, order: Order, move: Move | None = None) -> Order:
    """The order read again under a row lock, until the transaction ends: its
    states as they are now, which no one else changes meanwhile. With a
    `move`, refused (INVALID_TRANSITION) unless the move is allowed now:
    checked before anything is done that the move would have to undo."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if move is not None:
        check_allowed(order=order, move=move)
    return order


def stock_release(*, order: Order, actor: Any, shipped: bool) -> None:
    """Give back the stock the order's lines hold, variant by variant in
    lock order: to the shelf (a cancellation) or out of the warehouse
    (`shipped`, a fulfilment)."""
    release = inventory.stock_fulfil if shipped else inventory.stock_deallocate
    for variant, quantity in stocked_lines(order=order):
        release(actor=actor, variant=variant, quantity=quantity, reference=stock_reference(order))


def stock_reference(order: Order) -> str:
    """What the order's stock movements are labelled with."""
    return f"order:{order.number}"


def stocked_lines(*, order: Order) -> list[tuple[ProductVariant, int]]:
    """The order's variants and how many of each, in the order their stock is
    locked. A line whose variant has since been deleted holds no stock (its
    rows went with it) and is left out."""
    quantities: dict[int, int] = {}
    variants: dict[int, ProductVariant] = {}
    lines = OrderLine.objects.filter(order=order, variant__isnull=False).select_related("variant")
    for line in lines:
        assert line.variant is not None
        variants[line.variant.pk] = line.variant
        quantities[line.variant.pk] = quantities.get(line.variant.pk, 0) + line.quantity
    return [(variants[pk], quantities[pk]) for pk in sorted(variants)]
