"""salesReport: the order desk's dashboard, for staff with MANAGE_ORDERS. Thin
over apps.orders.reports, which counts in the database: the summary and the
days are one query, the top products another, whatever the range."""

from datetime import date
from typing import Annotated

import strawberry
from asgiref.sync import sync_to_async

from apps.accounts.permissions import Perm
from apps.core.errors import ServiceError
from apps.orders import reports
from schema.cost import list_size
from schema.errors import bad_user_input
from schema.money import Money
from schema.permissions import StaffPerm


@strawberry.type
class SalesDay:
    date: date
    order_count: int
    revenue: Money

    @classmethod
    def of(cls, day: reports.SalesDay) -> "SalesDay":
        return cls(date=day.date, order_count=day.order_count,
                   revenue=Money.from_money(day.revenue))


@strawberry.type
class TopProduct:
    product_name: str
    quantity: int = strawberry.field(description="Units sold.")
    revenue: Money = strawberry.field(
        description="Its lines' totals: after discounts, before tax and shipping; refunds, "
        "kept per order, are not taken off."
    )


async def top_products(root: "SalesReport", limit: int = 5) -> list[TopProduct]:
    rows = await sync_to_async(_top_products)(root.period, limit)
    return [TopProduct(product_name=row.product_name, quantity=row.quantity,
                       revenue=Money.from_money(row.revenue)) for row in rows]


@strawberry.type(description="Orders placed in the period, paid (PAID, PARTIALLY_REFUNDED or "
                 "REFUNDED) and not cancelled. Amounts are in the shop's currency.")
class SalesReport:
    order_count: int
    revenue: Money = strawberry.field(description="The orders' totals less their refunds.")
    average_order_value: Money = strawberry.field(description="Revenue per order; zero "
                                                  "without orders.")
    daily: list[SalesDay] = strawberry.field(
        description="Every day of the period, days without orders too, oldest first.",
        directives=list_size(reports.MAX_DAYS),
    )
    period: strawberry.Private[reports.SalesPeriod]
    top_products: list[TopProduct] = strawberry.field(
        resolver=top_products,
        description="The products that brought the most revenue, most first; `limit` from 1 "
        f"to {reports.MAX_TOP_PRODUCTS}.",
        directives=list_size(slicing_arguments=["limit"]),
    )


def _top_products(period: reports.SalesPeriod, limit: int) -> list[reports.TopProduct]:
    try:
        return reports.top_products(period=period, limit=limit)
    except ServiceError as error:
        raise bad_user_input(str(error)) from error


def _sales_report(date_from: date, date_to: date) -> SalesReport:
    try:
        period = reports.sales_period(date_from=date_from, date_to=date_to)
    except ServiceError as error:
        raise bad_user_input(str(error)) from error
    summary = reports.sales_summary(period=period)
    return SalesReport(
        order_count=summary.order_count,
        revenue=Money.from_money(summary.revenue),
        average_order_value=Money.from_money(summary.average_order_value),
        daily=[SalesDay.of(day) for day in summary.daily],
        period=period,
    )


async def sales_report(
    date_from: Annotated[date, strawberry.argument(
        description="The first day, in the shop's time zone."
    )],
    date_to: Annotated[date, strawberry.argument(
        description=f"The last day, included; the range holds at most {reports.MAX_DAYS} days."
    )],
) -> SalesReport:
    return await sync_to_async(_sales_report)(date_from, date_to)


@strawberry.type
class SalesReportQuery:
    sales_report: SalesReport = strawberry.field(
        resolver=sales_report,
        extensions=[StaffPerm(Perm.MANAGE_ORDERS)],
        description="Order count, revenue, average order value, top products and the days "
        "of a period of at most a year, counted in the database. A range the wrong way "
        "round, or longer, is BAD_USER_INPUT.",
    )
