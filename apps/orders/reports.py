"""Reports for the order desk, read by aggregate queries in the database: the
sales report (salesReport) and each customer's order count. A selector
module: it reads, never writes.

Which orders a sales report counts (API.md): those placed between two dates,
both included, in the shop's time zone (settings.TIME_ZONE), that were paid
and not cancelled. Paid means a payment status of PAID, PARTIALLY_REFUNDED or
REFUNDED: a fully refunded order still counts as an order, with nothing left
of its revenue. An order's revenue is its total (lines, shipping and tax,
after discounts) less what was refunded of it. A cancelled order is left out
whatever its payment (a paid one is refunded in full when it is cancelled).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from apps.core.errors import ServiceError
from apps.core.money import Money, shop_currency
from apps.orders.models import Order, OrderLine, OrderStatus, PaymentStatus

PAID = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
# A year, leap or not: the longest range a report covers, so that its daily
# rows stay a bounded answer.
MAX_DAYS = 366
MAX_TOP_PRODUCTS = 100


@dataclass(frozen=True, slots=True)
class SalesPeriod:
    """The days a report covers, first and last included, in the shop's time
    zone, and the moments they span: [start, end)."""

    first: date
    last: date
    start: datetime
    end: datetime

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True, slots=True)
class SalesDay:
    date: date
    order_count: int
    revenue: Money


@dataclass(frozen=True, slots=True)
class SalesSummary:
    order_count: int
    revenue: Money
    # Revenue per order, rounded once; zero without orders.
    average_order_value: Money
    # Every day of the period, those without orders too, oldest first.
    daily: list[SalesDay]


@dataclass(frozen=True, slots=True)
class TopProduct:
    product_name: str
    quantity: int
    # Its lines' totals: after line discounts, before tax and shipping.
    revenue: Money


def sales_period(*, date_from: date, date_to: date) -> SalesPeriod:
    """The period between two dates, or INVALID: `date_from` after `date_to`,
    more than MAX_DAYS days, or dates without a moment a database can hold."""
    if date_from > date_to:
        raise ServiceError("dateFrom must not be after dateTo.", field="date_from")
    days = (date_to - date_from).days + 1
    if days > MAX_DAYS:
        raise ServiceError(
            f"A sales report covers at most {MAX_DAYS} days; this range has {days}. "
            "Ask for it in parts.", field="date_to",
        )
    zone = timezone.get_default_timezone()
    try:
        start = datetime.combine(date_from, time.min, tzinfo=zone).astimezone(UTC)
        end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    except OverflowError:
        raise ServiceError("These dates are out of range.", field="date_to") from None
    return SalesPeriod(first=date_from, last=date_to, start=start, end=end)


def reported_orders(*, period: SalesPeriod) -> QuerySet[Order]:
    """The orders a report over `period` counts (the module's docstring says
    which), in the shop's currency, the one prices are kept in."""
    return (
        Order.objects.filter(created_at__gte=period.start, created_at__lt=period.end,
                             payment_status__in=PAID, currency=shop_currency())
        .exclude(status=OrderStatus.CANCELLED)
        .order_by()
    )


def _amount_sum(expression: Combinable) -> Sum:
    # Typed as the money columns, so SQLite's sums come back as exact
    # decimals of their places rather than floats.
    column = Order._meta.get_field("total")
    return Sum(expression, output_field=DecimalField(
        max_digits=column.max_digits, decimal_places=column.decimal_places))


def sales_summary(*, period: SalesPeriod) -> SalesSummary:
    """Order count, revenue and average order value, in all and per day: one
    query, grouped by the day in the shop's time zone."""
    rows = (
        reported_orders(period=period)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_default_timezone()))
        .values("day")
        .annotate(orders=Count("id"), revenue=_amount_sum(F("total") - F("total_refunded")))
        .values_list("day", "orders", "revenue")
    )
    by_day = {day: (orders, revenue or Decimal(0)) for day, orders, revenue in rows}
    currency = shop_currency()
    daily = []
    for day in period.days:
        orders, revenue = by_day.get(day, (0, Decimal(0)))
        daily.append(SalesDay(date=day, order_count=orders, revenue=Money.of(revenue, currency)))
    order_count = sum(day.order_count for day in daily)
    revenue = sum((day.revenue for day in daily), Money.zero(currency))
    average = (revenue / order_count).rounded() if order_count else Money.zero(currency)
    return SalesSummary(order_count=order_count, revenue=revenue, average_order_value=average,
                        daily=daily)


def top_products(*, period: SalesPeriod, limit: int) -> list[TopProduct]:
    """The products that brought the most revenue in the reported orders,
    most first (then by quantity, then by name), `limit` at most (1 to
    MAX_TOP_PRODUCTS): one query.

    A product is its catalog row, named as it is now, so a product renamed
    since it was sold is one line. Lines whose product no longer exists are
    grouped by the name they were sold under. Refunds are kept per order, not
    per line, so they are not taken off here."""
    if not 1 <= limit <= MAX_TOP_PRODUCTS:
        raise ServiceError(f"limit must be from 1 to {MAX_TOP_PRODUCTS}.", field="limit")
    rows = (
        OrderLine.objects.filter(order__in=reported_orders(period=period))
        .order_by()
        .values("product_id", sold_as=Case(When(product_id__isnull=True, then=F("product_name")),
                                           default=Value("")))
        .annotate(
            name=Coalesce(Max("product__name"), Max("product_name")),
            quantity=Sum("quantity"),
            revenue=_amount_sum(F("total")),
        )
        .order_by("-revenue", "-quantity", "name", "product_id")
        .values_list("name", "quantity", "revenue")[:limit]
    )
    currency = shop_currency()
    return [TopProduct(product_name=name, quantity=quantity, revenue=Money.of(revenue, currency))
            for name, quantity, revenue in rows]


def order_count_per_customer() -> Coalesce:
    """An annotation for users: how many orders each has placed, whatever
    became of them (cancelled ones too). A correlated subquery, so a page of
    customers stays one query."""
    counted = (
        Order.objects.filter(user=OuterRef("pk"))
        .order_by()
        .values("user")
        .annotate(n=Count("id"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted), 0)
