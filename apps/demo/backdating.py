"""Demo-only back-dating: the demo orders' past.

The services stamp everything they write with the present, and no shop code
has any business writing the past. Demo orders (apps.demo.orders) are
placed now, then spread over the last weeks after the fact, by bulk UPDATEs
of the timestamps of what they wrote: the orders, their events, payments,
refunds, stock movements, coupon uses and carts, each at the moment of the
step of the order's life that wrote it. Acceptable for demo data, and for
nothing else: it rewrites history.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Model

from apps.checkout.models import Cart, CartLine
from apps.discounts.models import CouponUse
from apps.inventory.models import StockMovement
from apps.orders.models import Order, OrderEvent, Payment, Refund
from apps.orders.services.locks import stock_reference

Step = OrderEvent.Type

# The stock movements an order makes, by the step that makes them.
MOVED_BY: dict[str, Step] = {StockMovement.Kind.ALLOCATION: Step.PLACED,
                             StockMovement.Kind.FULFILMENT: Step.FULFILLED,
                             StockMovement.Kind.DEALLOCATION: Step.CANCELLED}
# How long before checking out its cart was filled.
SHOPPING = timedelta(minutes=15)


def backdate(orders: Sequence[tuple[Order, Mapping[Step, datetime]]]) -> None:
    """Date each order, and what it wrote, by the moments of its steps (the
    events they leave: PLACED, PAID, FULFILLED...); a step without a moment
    happened when the order was placed."""
    moments = {order.pk: steps for order, steps in orders}
    ids = list(moments)

    def at(order_id: int, step: str) -> datetime:
        return moments[order_id].get(Step(step), moments[order_id][Step.PLACED])

    _stamp(Order, {pk: {"created_at": steps[Step.PLACED], "updated_at": max(steps.values())}
                   for pk, steps in moments.items()})
    _stamp(OrderEvent, {pk: {"created_at": at(order_id, kind)} for pk, order_id, kind in
                        OrderEvent.objects.filter(order_id__in=ids)
                        .values_list("pk", "order_id", "type")})
    _stamp(Payment, {pk: {"created_at": at(order_id, Step.PAID),
                          "updated_at": at(order_id, Step.PAID)}
                     for pk, order_id in Payment.objects.filter(order_id__in=ids)
                     .values_list("pk", "order_id")})
    _stamp(Refund, {pk: {"created_at": at(order_id, Step.REFUNDED)} for pk, order_id in
                    Refund.objects.filter(payment__order_id__in=ids)
                    .values_list("pk", "payment__order_id")})
    _stamp(CouponUse, {pk: {"used_at": at(order_id, Step.PLACED),
                            "released_at": released and at(order_id, Step.CANCELLED)}
                       for pk, order_id, released in CouponUse.objects.filter(order_id__in=ids)
                       .values_list("pk", "order_id", "released_at")})
    by_reference = {stock_reference(order): order.pk for order, _ in orders}
    _stamp(StockMovement, {pk: {"created_at": at(by_reference[reference], MOVED_BY[kind])}
                           for pk, reference, kind in
                           StockMovement.objects.filter(reference__in=list(by_reference))
                           .values_list("pk", "reference", "kind")})
    by_token = {order.cart_token: order.pk for order, _ in orders}
    carts = dict(Cart.objects.filter(token__in=list(by_token)).values_list("pk", "token"))
    _stamp(Cart, {pk: {"created_at": at(by_token[token], Step.PLACED) - SHOPPING,
                       "updated_at": at(by_token[token], Step.PLACED)}
                  for pk, token in carts.items()})
    _stamp(CartLine, {pk: {"created_at": at(by_token[carts[cart]], Step.PLACED) - SHOPPING}
                      for pk, cart in CartLine.objects.filter(cart_id__in=list(carts))
                      .values_list("pk", "cart_id")})


def _stamp(model: type[Model], stamps: Mapping[Any, Mapping[str, datetime | None]]) -> None:
    """Set these timestamps of these rows: bulk UPDATEs of a CASE on the
    primary key, a batch at a time."""
    if not stamps:
        return
    fields = sorted(next(iter(stamps.values())))
    model._default_manager.bulk_update(
        [model(pk=pk, **values) for pk, values in stamps.items()], fields, batch_size=500)
