"""salesReport through the endpoint with the contract's own operation, and the
arithmetic behind it (apps.orders.reports): which orders count, refunds
taken off, days in the shop's time zone, top products, and a constant number
of queries whatever the range."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql import parse

from apps.accounts.permissions import Perm
from apps.catalog.models import Product
from apps.orders import reports
from apps.orders.models import Order
from schema.cost import operation_cost
from schema.schema import schema
from tests import contract
from tests.conftest import Client, client_for, error_codes, make_user
from tests.factories import make_order, make_product, make_variant

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 10)


def document() -> str:
    return contract.operations("admin/orders.graphql", "SalesReport")


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def report(client, date_from: date, date_to: date) -> dict:
    result = client.post(document(), {"dateFrom": date_from.isoformat(),
                                      "dateTo": date_to.isoformat()})
    assert not result.get("errors"), result["errors"]
    return result["data"]["salesReport"]


def money(amount: str) -> dict:
    return {"amount": amount, "currency": "USD"}


def order(variant, quantity: int = 1, *, created_at: datetime, payment_status: str = "PAID",
          status: str = "PROCESSING", refunded: str | None = None, **extra) -> Order:
    extra.setdefault("shipping_price", "5.00")
    placed = make_order(lines=[(variant, quantity)], status=status, allocate=False,
                        payment_status=payment_status, created_at=created_at, **extra)
    if refunded is not None:
        Order.objects.filter(pk=placed.pk).update(total_refunded=Decimal(refunded))
    return placed


@pytest.fixture
def manager_client():
    return client_for(make_user(perms=[Perm.MANAGE_ORDERS]))


@pytest.fixture
def rose():
    return make_variant(product=make_product(name="Rose oil"), price="20.00")


@pytest.fixture
def cedar():
    return make_variant(product=make_product(name="Cedar soap"), price="7.50")


def test_what_counts_and_what_is_taken_off(manager_client, rose, cedar):
    day = DAY
    order(rose, 2, created_at=at(day))                               # 45.00
    order(cedar, 4, created_at=at(day, 18))                          # 35.00
    order(rose, 1, created_at=at(day + timedelta(days=2)),           # 25.00 − 10.00
          payment_status="PARTIALLY_REFUNDED", status="DELIVERED", refunded="10.00")
    order(cedar, 1, created_at=at(day + timedelta(days=2)),          # 12.50 − 12.50
          payment_status="REFUNDED", status="DELIVERED", refunded="12.50")
    # Left out: cancelled (and refunded), never paid, failed, outside the range.
    order(rose, 5, created_at=at(day), payment_status="REFUNDED", status="CANCELLED",
          refunded="105.00")
    order(rose, 5, created_at=at(day), payment_status="NOT_CHARGED", status="PENDING")
    order(rose, 5, created_at=at(day), payment_status="PENDING", status="PENDING")
    order(rose, 5, created_at=at(day), payment_status="FAILED", status="PENDING")
    order(rose, 5, created_at=at(day - timedelta(days=1), 23, 59))
    order(rose, 5, created_at=at(day + timedelta(days=3)))

    answer = report(manager_client, day, day + timedelta(days=2))
    assert answer["orderCount"] == 4
    assert answer["revenue"] == money("95.00")  # 45 + 35 + 15 + 0
    assert answer["averageOrderValue"] == money("23.75")
    assert answer["daily"] == [
        {"date": "2026-03-10", "orderCount": 2, "revenue": money("80.00")},
        {"date": "2026-03-11", "orderCount": 0, "revenue": money("0.00")},
        {"date": "2026-03-12", "orderCount": 2, "revenue": money("15.00")},
    ]
    # By revenue of the lines (before tax and shipping; refunds are per order).
    assert answer["topProducts"] == [
        {"productName": "Rose oil", "quantity": 3, "revenue": money("60.00")},
        {"productName": "Cedar soap", "quantity": 5, "revenue": money("37.50")},
    ]


def test_an_empty_period(manager_client):
    answer = report(manager_client, DAY, DAY)
    assert answer == {"orderCount": 0, "revenue": money("0.00"),
                      "averageOrderValue": money("0.00"), "topProducts": [],
                      "daily": [{"date": "2026-03-10", "orderCount": 0,
                                 "revenue": money("0.00")}]}


def test_the_average_is_rounded_half_up_once(rose):
    cheap = make_variant(product=rose.product, price="0.00")
    # Totals 25.00, 5.00, 5.01: 35.01 / 3 = 11.67 exactly; with 0.01 more,
    # 35.02 / 4 = 8.755, which rounds up.
    order(rose, created_at=at(DAY))
    order(cheap, created_at=at(DAY))
    order(cheap, created_at=at(DAY), shipping_price="5.01")
    period = reports.sales_period(date_from=DAY, date_to=DAY)
    assert str(reports.sales_summary(period=period).average_order_value) == "11.67 USD"
    order(cheap, created_at=at(DAY), shipping_price="0.01")
    assert str(reports.sales_summary(period=period).average_order_value) == "8.76 USD"


def test_days_are_the_shops_time_zone(manager_client, settings, rose):
    settings.TIME_ZONE = "America/New_York"  # UTC−5 in winter, −4 from 8 March 2026
    first = date(2026, 3, 7)
    order(rose, created_at=datetime(2026, 3, 7, 4, 59, tzinfo=UTC))   # 6 March, 23:59
    order(rose, created_at=datetime(2026, 3, 7, 5, 0, tzinfo=UTC))    # 7 March, 00:00
    order(rose, created_at=datetime(2026, 3, 8, 4, 30, tzinfo=UTC))   # 7 March, 23:30
    order(rose, created_at=datetime(2026, 3, 8, 4, 0, tzinfo=UTC)
          + timedelta(hours=24))                                       # 9 March, 00:00 EDT
    order(rose, created_at=datetime(2026, 3, 9, 3, 59, tzinfo=UTC))   # 8 March, 23:59 EDT

    answer = report(manager_client, first, first + timedelta(days=2))
    assert [(d["date"], d["orderCount"]) for d in answer["daily"]] == [
        ("2026-03-07", 2), ("2026-03-08", 1), ("2026-03-09", 1)]
    assert answer["orderCount"] == 4
    settings.TIME_ZONE = "UTC"
    answer = report(manager_client, first, first)
    assert answer["orderCount"] == 2  # 04:59 and 05:00 on 7 March, UTC


def test_top_products_by_revenue_then_quantity(manager_client):
    variants = [make_variant(product=make_product(name=f"P{n}"), price=price)
                for n, price in enumerate(["10.00", "5.00", "1.00", "30.00"])]
    order(variants[0], 3, created_at=at(DAY))   # 30.00, 3
    order(variants[1], 6, created_at=at(DAY))   # 30.00, 6: ahead on quantity
    order(variants[2], 50, created_at=at(DAY))  # 50.00
    order(variants[3], 1, created_at=at(DAY))   # 30.00, 1
    answer = report(manager_client, DAY, DAY)
    assert [(p["productName"], p["quantity"]) for p in answer["topProducts"]] == [
        ("P2", 50), ("P1", 6), ("P0", 3), ("P3", 1)]
    top = reports.top_products(period=reports.sales_period(date_from=DAY, date_to=DAY), limit=2)
    assert [p.product_name for p in top] == ["P2", "P1"]


def test_a_product_is_one_line_under_its_current_name(manager_client, rose, cedar):
    order(rose, 1, created_at=at(DAY))
    Product.objects.filter(pk=rose.product_id).update(name="Rose oil, 10 ml")
    order(rose, 2, created_at=at(DAY))
    # A product gone from the catalog is grouped by the name it was sold under.
    order(cedar, 1, created_at=at(DAY))
    order(cedar, 1, created_at=at(DAY))
    Product.objects.filter(pk=cedar.product_id).delete()
    answer = report(manager_client, DAY, DAY)
    assert [(p["productName"], p["quantity"]) for p in answer["topProducts"]] == [
        ("Rose oil, 10 ml", 3), ("Cedar soap", 2)]


@pytest.mark.parametrize(("date_from", "date_to", "words"), [
    (DAY, DAY - timedelta(days=1), "dateFrom must not be after dateTo"),
    (DAY, DAY + timedelta(days=366), "at most 366 days; this range has 367"),
    (date(1, 1, 1), date(1, 1, 1), None),
    (date(9999, 12, 31), date(9999, 12, 31), "out of range"),
])
def test_a_range_it_cannot_report_is_bad_user_input(manager_client, settings, date_from, date_to,
                                                    words):
    settings.TIME_ZONE = "Asia/Tokyo"  # year 1 at midnight in Tokyo is before year 1 in UTC
    result = manager_client.post(document(), {"dateFrom": date_from.isoformat(),
                                               "dateTo": date_to.isoformat()})
    assert error_codes(result) == ["BAD_USER_INPUT"] and result["data"] is None
    if words:
        assert words in result["errors"][0]["message"]


def test_a_year_is_one_report(manager_client, rose):
    order(rose, created_at=at(date(2024, 12, 31)))
    answer = report(manager_client, date(2024, 1, 1), date(2024, 12, 31))  # a leap year
    assert len(answer["daily"]) == 366 and answer["orderCount"] == 1
    assert answer["daily"][-1] == {"date": "2024-12-31", "orderCount": 1,
                                   "revenue": money("25.00")}


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_the_limit_of_top_products(manager_client, limit):
    query = """query ($limit: Int!) { salesReport(dateFrom: "2026-03-10", dateTo: "2026-03-10")
                 { orderCount topProducts(limit: $limit) { productName } } }"""
    result = manager_client.post(query, {"limit": limit})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert "limit must be from 1 to 100" in result["errors"][0]["message"]


def test_the_same_queries_whatever_the_range_and_the_orders(manager_client, rose, cedar):
    def queries(days: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            report(manager_client, DAY, DAY + timedelta(days=days - 1))
        return len(captured)

    order(rose, created_at=at(DAY))
    few = queries(2)
    for n in range(12):
        order(rose if n % 2 else cedar, n + 1, created_at=at(DAY + timedelta(days=n * 20)))
        make_variant(product=make_product(), price="1.00")
    assert queries(366) == few
    # The token's user, the permissions (the user's, the groups'), the days
    # with the summary, the top products.
    assert few == 5


def test_only_order_managers_see_it(rose):
    order(rose, created_at=at(DAY))
    variables = {"dateFrom": DAY.isoformat(), "dateTo": DAY.isoformat()}
    for client, code in ((Client(), "UNAUTHENTICATED"), (client_for(make_user()), "FORBIDDEN"),
                         (client_for(make_user(perms=[Perm.MANAGE_PRODUCTS,
                                                      Perm.MANAGE_CUSTOMERS])), "FORBIDDEN")):
        result = client.post(document(), variables)
        assert error_codes(result) == [code] and result["data"] is None


def test_the_report_fits_the_cost_limit(settings):
    value = operation_cost(schema=schema._schema, document=parse(document()),
                           operation_name="SalesReport",
                           max_page_size=settings.GRAPHQL_MAX_PAGE_SIZE)
    assert 2 * value <= settings.GRAPHQL_MAX_COST, value
