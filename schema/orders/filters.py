"""The order desk's filter input, and its translation into the selector's
plain terms."""

from datetime import datetime

import strawberry

from apps.orders.selectors import OrderFilters
from schema.orders.types import OrderStatus, PaymentStatus


@strawberry.input(description="An interval of moments, bounds included; a moment without a "
                  "time zone is read as UTC.")
class DateTimeRange:
    gte: datetime | None = None
    lte: datetime | None = None


@strawberry.input(description="Every given condition must hold.")
class OrderFilter:
    status: list[OrderStatus] | None = strawberry.field(
        default=None, description="Any of these statuses (one value is a list of one).",
    )
    payment_status: list[PaymentStatus] | None = strawberry.field(
        default=None, description="Any of these payment statuses.",
    )
    search: str | None = strawberry.field(
        default=None, description="Every word in the order number (its start), the email, "
        "or the customer's or the shipping address's name.",
    )
    created_at: DateTimeRange | None = strawberry.field(
        default=None, description="When the order was placed.",
    )


def order_filters(value: OrderFilter | None) -> OrderFilters:
    if value is None:
        return OrderFilters()
    return OrderFilters(
        statuses=tuple(status.value for status in value.status or ()),
        payment_statuses=tuple(status.value for status in value.payment_status or ()),
        search=value.search,
        created_from=value.created_at.gte if value.created_at else None,
        created_until=value.created_at.lte if value.created_at else None,
    )
