"""Reading orders through the endpoint with the contract's own operations:
the customer's history, the detail by number, the guest's receipt by token,
the order desk's list and its filter; who sees which, and what they cost."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from graphql import parse
from strawberry.relay import to_base64

from apps.accounts.permissions import Perm
from apps.orders import selectors
from apps.orders.models import Payment
from apps.orders.services import cancellation
from schema.cost import operation_cost
from schema.schema import schema
from tests import contract
from tests.conftest import Client, client_for, error_codes, make_user
from tests.factories import make_order, make_product, make_variant

pytestmark = pytest.mark.django_db

# Measured; the point is that they do not grow with the page. The token's
# user, `me`, the page with its count, the lines of its orders.
MY_ORDERS_QUERIES = 4
# The token's user, the staff's permissions (two), the page with its count
# and the customers joined.
ADMIN_ORDERS_QUERIES = 4


def storefront() -> str:
    return contract.operations("storefront/orders.graphql", "MyOrders", "OrderDetail",
                               "OrderByToken")


def admin() -> str:
    return contract.operations("admin/orders.graphql", "AdminOrders")


def an_order(**extra):
    variant = make_variant(product=make_product(name="Rose"), name="50 ml",
                           price=Decimal("12.50"), stock=50)
    return make_order(lines=[(variant, 2)], tax_rate="0.2", **extra)


def detail(client, number: str):
    return client.execute(storefront(), {"number": number},
                          operation_name="OrderDetail")["order"]


def my_orders(client, first: int = 10, after: str | None = None) -> dict:
    data = client.execute(storefront(), {"first": first, "after": after},
                          operation_name="MyOrders")
    return data["me"]["orders"]


def desk_orders(client, first: int = 10, **filters) -> dict:
    variables = {"first": first, "filters": filters or None}
    return client.execute(admin(), variables, operation_name="AdminOrders")["orders"]


def numbers(connection: dict) -> list[str]:
    return [edge["node"]["number"] for edge in connection["edges"]]


def desk() -> Client:
    return client_for(make_user(perms=[Perm.MANAGE_ORDERS]))


# --- order(number:) and orderByToken -------------------------------------------------------------


def test_the_owner_reads_their_order_by_number():
    ada = make_user()
    order = an_order(user=ada)
    found = detail(client_for(ada), order.number)
    assert found["id"] == to_base64("Order", order.pk)
    assert found["number"] == order.number and found["token"] == str(order.token)
    assert (found["status"], found["paymentStatus"]) == ("PENDING", "NOT_CHARGED")
    assert found["lines"] == [{
        "id": to_base64("OrderLine", order.lines.get().pk), "productName": "Rose",
        "variantName": "50 ml", "sku": order.lines.get().sku, "quantity": 2,
        "unitPrice": {"amount": "12.50", "currency": "USD"},
        "total": {"amount": "25.00", "currency": "USD"},
    }]
    assert found["subtotal"]["amount"] == "25.00"
    assert found["shippingPrice"]["amount"] == "5.00"
    assert found["tax"]["amount"] == "6.00"
    assert found["discount"]["amount"] == "0.00"
    assert found["total"] == {"amount": "36.00", "currency": "USD"}
    assert found["shippingAddress"] == {"firstName": "Ada", "lastName": "Lovelace",
                                        "streetAddress1": "12 Analytical Row",
                                        "city": "London", "postalCode": "N1 7AA",
                                        "country": "GB"}
    assert (found["shippingMethodName"], found["trackingNumber"]) == ("Standard", None)
    assert [event["type"] for event in found["events"]] == ["PLACED"]
    assert found["email"] == ada.email


def test_what_an_order_says_is_what_was_bought_not_what_the_catalog_says_now():
    ada = make_user()
    order = an_order(user=ada)
    variant = order.lines.get().variant
    variant.price = Decimal("99.00")
    variant.save()
    variant.product.name = "Renamed"
    variant.product.save()
    found = detail(client_for(ada), order.number)
    assert found["lines"][0]["productName"] == "Rose"
    assert found["lines"][0]["unitPrice"]["amount"] == "12.50"


def test_someone_elses_order_is_null_and_the_desk_sees_it():
    order = an_order(user=make_user())
    assert detail(client_for(make_user()), order.number) is None
    assert detail(client_for(make_user(perms=[Perm.MANAGE_PRODUCTS])), order.number) is None
    assert detail(client_for(make_user()), "no such number") is None
    assert detail(desk(), order.number)["number"] == order.number


def test_an_anonymous_caller_must_sign_in_to_read_by_number():
    order = an_order()
    result = Client().post(storefront(), {"number": order.number}, operation_name="OrderDetail")
    assert error_codes(result) == ["UNAUTHENTICATED"]


def test_whoever_holds_the_token_reads_the_order():
    order = an_order(email="guest@example.com")
    found = Client().execute(storefront(), {"token": str(order.token)},
                             operation_name="OrderByToken")["orderByToken"]
    assert found["number"] == order.number and found["email"] == "guest@example.com"
    assert len(found["lines"]) == 1 and found["lines"][0]["sku"] == order.lines.get().sku
    assert [event["type"] for event in found["events"]] == ["PLACED"]
    unknown = Client().execute(storefront(), {"token": str(uuid.uuid4())},
                               operation_name="OrderByToken")
    assert unknown["orderByToken"] is None


@pytest.mark.parametrize("token", ["not-a-uuid", "", 12])
def test_a_token_that_is_no_uuid_is_bad_input(token):
    result = Client().post(storefront(), {"token": token}, operation_name="OrderByToken")
    assert result.get("data") is None
    assert error_codes(result) and "INTERNAL_SERVER_ERROR" not in error_codes(result)


def test_node_finds_orders_and_payments_only_for_those_who_see_them():
    ada = make_user()
    order = an_order(user=ada, status="PROCESSING", payment_status="PAID")
    payment = Payment.objects.get(order=order)
    query = """query($id: ID!) { node(id: $id) { id ... on Order { number payments {
        gateway status amount { amount } clientSecret } } ... on Payment { gateway } } }"""
    order_id, payment_id = to_base64("Order", order.pk), to_base64("Payment", payment.pk)
    found = client_for(ada).execute(query, {"id": order_id})["node"]
    assert found["payments"] == [{"gateway": "dummy", "status": "SUCCEEDED",
                                  "amount": {"amount": "36.00"}, "clientSecret": None}]
    assert client_for(ada).execute(query, {"id": payment_id})["node"] == {
        "id": payment_id, "gateway": "dummy"}
    for client in (Client(), client_for(make_user())):
        assert client.execute(query, {"id": order_id})["node"] is None
        assert client.execute(query, {"id": payment_id})["node"] is None


def test_the_customer_of_an_order_is_shown_to_the_desk_without_the_customers_permission():
    ada = make_user()
    order = an_order(user=ada)
    query = "query($n: String!) { order(number: $n) { customer { id email } } }"
    assert desk().execute(query, {"n": order.number})["order"]["customer"] == {
        "id": to_base64("User", ada.pk), "email": ada.email}
    guest = an_order()
    assert desk().execute(query, {"n": guest.number})["order"]["customer"] is None


# --- me.orders ----------------------------------------------------------------------------------


def test_my_orders_newest_first_and_only_mine():
    ada, bob = make_user(), make_user()
    now = datetime.now(tz=UTC)
    old = an_order(user=ada, created_at=now - timedelta(days=2))
    new = an_order(user=ada, created_at=now - timedelta(days=1))
    an_order(user=bob)
    an_order()
    page = my_orders(client_for(ada), first=1)
    assert page["totalCount"] == 2 and numbers(page) == [new.number]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = my_orders(client_for(ada), first=1, after=page["pageInfo"]["endCursor"])
    assert numbers(rest) == [old.number] and rest["pageInfo"]["hasNextPage"] is False
    node = page["edges"][0]["node"]
    assert node["lines"] == [{"productName": "Rose", "quantity": 2}]
    assert node["total"] == {"amount": "36.00", "currency": "USD"}
    assert (node["status"], node["paymentStatus"]) == ("PENDING", "NOT_CHARGED")


def test_me_is_null_for_an_anonymous_caller():
    data = Client().execute(storefront(), {"first": 5}, operation_name="MyOrders")
    assert data["me"] is None


@pytest.mark.parametrize("size", [2, 12])
def test_my_orders_cost_the_same_whatever_the_page(django_assert_num_queries, size):
    ada = make_user()
    variant = make_variant(product=make_product(), stock=100)
    for _ in range(size):
        make_order(lines=[(variant, 1), (make_variant(product=make_product()), 2)], user=ada,
                   allocate=False)
    client = client_for(ada)
    with django_assert_num_queries(MY_ORDERS_QUERIES):
        page = my_orders(client, first=size)
    assert page["totalCount"] == size and all(len(e["node"]["lines"]) == 2
                                              for e in page["edges"])


def test_a_page_above_the_cap_is_refused():
    result = client_for(make_user()).post(storefront(), {"first": 101},
                                          operation_name="MyOrders")
    assert error_codes(result) == ["BAD_USER_INPUT"]


# --- orders (the desk) --------------------------------------------------------------------------


def test_the_desk_lists_every_order_with_its_customer():
    ada = make_user()
    mine, guest = an_order(user=ada), an_order(email="guest@example.com")
    page = desk_orders(desk())
    assert page["totalCount"] == 2 and numbers(page) == [guest.number, mine.number]
    assert [edge["node"]["customer"] for edge in page["edges"]] == [
        None, {"id": to_base64("User", ada.pk), "email": ada.email}]
    assert page["edges"][0]["node"]["email"] == "guest@example.com"


def test_the_desk_filters_by_status_payment_status_search_and_date():
    ada = make_user(first_name="Ada", last_name="Byron")
    now = datetime.now(tz=UTC)
    pending = an_order(user=ada, created_at=now - timedelta(days=10))
    paid = an_order(status="PROCESSING", payment_status="PAID", email="bob@example.com",
                    created_at=now - timedelta(days=5))
    shipped = an_order(status="SHIPPED", payment_status="PAID", email="carol@example.com",
                       created_at=now - timedelta(days=1))
    client = desk()
    assert numbers(desk_orders(client, status="PENDING")) == [pending.number]
    assert numbers(desk_orders(client, status=["PROCESSING", "SHIPPED"])) == [
        shipped.number, paid.number]
    assert numbers(desk_orders(client, paymentStatus="PAID")) == [shipped.number, paid.number]
    assert numbers(desk_orders(client, search="byron")) == [pending.number]
    assert numbers(desk_orders(client, search="BOB@")) == [paid.number]
    assert numbers(desk_orders(client, search=f"#{paid.number}")) == [paid.number]
    assert numbers(desk_orders(client, search="byron carol")) == []
    window = {"gte": (now - timedelta(days=6)).isoformat(),
              "lte": (now - timedelta(days=2)).isoformat()}
    assert numbers(desk_orders(client, createdAt=window)) == [paid.number]
    naive = {"gte": (now - timedelta(days=6)).replace(tzinfo=None).isoformat()}
    assert numbers(desk_orders(client, createdAt=naive)) == [shipped.number, paid.number]
    both = desk_orders(client, status="SHIPPED", paymentStatus="PAID", search="carol")
    assert both["totalCount"] == 1 and numbers(both) == [shipped.number]


def test_a_filter_value_out_of_the_enum_is_a_coded_error():
    result = desk().post(admin(), {"first": 5, "filters": {"status": "LOST"}},
                         operation_name="AdminOrders")
    assert error_codes(result) and "INTERNAL_SERVER_ERROR" not in error_codes(result)


def test_a_moment_off_the_calendar_is_bad_input():
    result = desk().post(admin(), {"first": 5, "filters": {
        "createdAt": {"gte": "0001-01-01T00:00:00+14:00"}}}, operation_name="AdminOrders")
    assert error_codes(result) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("size", [2, 12])
def test_the_desk_list_costs_the_same_whatever_the_page(django_assert_num_queries, size):
    variant = make_variant(product=make_product(), stock=100)
    for i in range(size):
        make_order(lines=[(variant, 1)], user=make_user() if i % 2 else None, allocate=False)
    client = desk()
    with django_assert_num_queries(ADMIN_ORDERS_QUERIES):
        page = desk_orders(client, first=size)
    assert page["totalCount"] == size


def test_the_list_is_the_desks():
    for client, code in ((Client(), "UNAUTHENTICATED"), (client_for(make_user()), "FORBIDDEN"),
                         (client_for(make_user(perms=[Perm.MANAGE_CUSTOMERS])), "FORBIDDEN")):
        assert error_codes(client.post(admin(), {"first": 5},
                                       operation_name="AdminOrders")) == [code]


def test_the_operations_fit_the_cost_limit(settings):
    for file, names in (("storefront/orders.graphql", ("MyOrders", "OrderDetail",
                                                       "OrderByToken", "OrderCancel")),
                        ("admin/orders.graphql", ("AdminOrders", "OrderFulfill",
                                                  "OrderMarkDelivered", "OrderAdminCancel",
                                                  "OrderRefund"))):
        parsed = parse(contract.operations(file, *names))
        for name in names:
            value = operation_cost(schema=schema._schema, document=parsed, operation_name=name,
                                   variables={"first": 100},
                                   max_page_size=settings.GRAPHQL_MAX_PAGE_SIZE)
            assert 2 * value <= settings.GRAPHQL_MAX_COST, (name, value)


# --- The selectors ------------------------------------------------------------------------------


def test_who_sees_which_orders():
    ada, bob = make_user(), make_user()
    hers, his, guests = an_order(user=ada), an_order(user=bob), an_order()
    visible = selectors.orders_visible_to
    assert list(visible(user=None)) == []
    assert list(visible(user=ada)) == [hers]
    assert set(visible(user=make_user(perms=[Perm.MANAGE_ORDERS]))) == {hers, his, guests}
    assert list(visible(user=make_user(perms=[Perm.MANAGE_CUSTOMERS]))) == []
    assert selectors.order_by_number(user=bob, number=hers.number) is None
    assert selectors.order_by_number(user=ada, number=hers.number) == hers
    assert selectors.order_by_token(token=guests.token) == guests
    assert list(selectors.orders_of(user=None)) == []


def test_the_desk_sees_who_acted_and_a_customer_may_not_ask():
    ada = make_user()
    order = an_order(user=ada)
    cancellation.order_cancel(order=order, actor=ada)
    query = """query($n: String!) { order(number: $n) { events { type message
        actor { email } } } }"""
    events = desk().execute(query, {"n": order.number})["order"]["events"]
    assert events == [{"type": "PLACED", "message": "", "actor": None},
                      {"type": "CANCELLED", "message": "Cancelled by the customer.",
                       "actor": {"email": ada.email}}]
    result = client_for(ada).post(query, {"n": order.number})
    assert error_codes(result) == ["FORBIDDEN", "FORBIDDEN"]
    assert [event["actor"] for event in result["data"]["order"]["events"]] == [None, None]
