"""Carts through the endpoint, with the contract's own operations
(storefront/cart.graphql), and the cart services behind them."""

import uuid
from decimal import Decimal

import pytest
from graphql import parse
from strawberry.relay import to_base64

from apps.checkout import services
from apps.checkout.models import Cart, CartLine, CartState
from schema.cost import operation_cost
from schema.schema import schema
from tests import contract
from tests.conftest import Client, client_for, error_codes, make_user, problems
from tests.factories import (
    ADDRESS,
    make_cart,
    make_coupon,
    make_product,
    make_shipping_method,
    make_tax_rate,
    make_variant,
)

pytestmark = pytest.mark.django_db

DOCUMENT = "storefront/cart.graphql"
CART_OPERATIONS = ["Cart", "MyCart", "CartCreate", "CartLinesAdd", "CartLinesUpdate",
                   "CartLinesRemove", "CartMerge", "CartEmailUpdate", "CartCouponApply",
                   "CartCouponRemove", "CartShippingAddressUpdate", "CartShippingMethodUpdate"]
# The cart, then its lines, their availability, the coupon's use counts,
# categories and products, the shipping methods and the tax rules (and the
# paths of the lines' categories, when they have some; the token's user
# first for a signed-in caller).
CART_QUERIES = 8

ADDRESS_INPUT = {"firstName": "Ada", "lastName": "Lovelace",
                 "streetAddress1": "12 Analytical Row", "city": "New York",
                 "postalCode": "10001", "countryArea": "NY", "country": "US"}


def run(client: Client, operation: str, **variables) -> dict:
    """Send one operation of the document; its root field's answer."""
    data = client.execute(contract.operations(DOCUMENT, operation), variables,
                          operation_name=operation)
    return next(iter(data.values()))


def gid(type_name: str, pk: int) -> str:
    return to_base64(type_name, pk)


def stocked(price: str = "10.00", stock: int = 10, sku: str | None = None, **product):
    return make_variant(product=make_product(**product), price=price, stock=stock, sku=sku)


def line_input(variant, quantity: int = 1) -> dict:
    return {"variantId": gid("ProductVariant", variant.pk), "quantity": quantity}


def quantities(cart: dict) -> list[tuple[str, int]]:
    return [(line["variant"]["sku"], line["quantity"]) for line in cart["lines"]]


@pytest.fixture(autouse=True)
def _shop(settings):
    settings.DEFAULT_COUNTRY = "US"
    settings.DEFAULT_CURRENCY = "USD"


# --- Making and reading a cart -------------------------------------------------------------


def test_a_guest_makes_a_cart_and_reads_it_by_its_token(client):
    make_tax_rate(country="US", rate="10")
    rose, oud = stocked("12.50", sku="ROSE"), stocked("3.00", sku="OUD")
    answer = run(client, "CartCreate", input={"email": "Guest@Example.com",
                                              "lines": [line_input(rose, 2), line_input(oud)]})
    assert answer["errors"] == []
    cart = answer["cart"]
    assert cart["email"] == "guest@example.com"
    assert quantities(cart) == [("ROSE", 2), ("OUD", 1)] and cart["quantity"] == 3
    assert [(line["unitPrice"]["amount"], line["total"]["amount"]) for line in cart["lines"]] \
        == [("12.50", "25.00"), ("3.00", "3.00")]
    assert cart["lines"][0]["variant"]["quantityAvailable"] == 10
    assert cart["lines"][0]["variant"]["product"]["name"] == rose.product.name
    assert {key: cart[key]["amount"] for key in ("subtotal", "discount", "shippingPrice",
                                                 "tax", "total")} == {
        "subtotal": "28.00", "discount": "0.00", "shippingPrice": "0.00", "tax": "2.80",
        "total": "30.80"}
    assert cart["total"]["currency"] == "USD"
    assert cart["shippingAddress"] is None and cart["shippingMethod"] is None
    assert cart["availableShippingMethods"] == [] and cart["warnings"] == []
    assert cart["couponCode"] is None

    read = run(client, "Cart", token=cart["token"])
    assert read == cart
    stored = Cart.objects.get(token=cart["token"])
    assert stored.user is None and stored.state == CartState.ACTIVE


def test_a_customers_cart_is_theirs_and_their_only_active_one(customer, customer_client):
    first = stocked()
    answer = run(customer_client, "CartCreate", input={"lines": [line_input(first)]})
    cart = answer["cart"]
    assert cart["email"] == customer.email
    assert run(customer_client, "MyCart")["cart"]["token"] == cart["token"]

    # A second cartCreate answers the same cart with the lines added.
    second = stocked()
    again = run(customer_client, "CartCreate", input={"lines": [line_input(first),
                                                                line_input(second, 2)]})
    assert again["cart"]["token"] == cart["token"]
    assert quantities(again["cart"]) == [(first.sku, 2), (second.sku, 2)]
    assert Cart.objects.filter(user=customer).count() == 1


def test_someone_elses_cart_is_as_one_that_does_not_exist(customer, client):
    mine = make_cart(user=customer, lines=[(stocked(), 1)])
    stranger = client_for(make_user())
    for caller in (client, stranger):
        assert run(caller, "Cart", token=str(mine.token)) is None
        answer = run(caller, "CartLinesAdd", token=str(mine.token), lines=[line_input(stocked())])
        assert problems(answer) == [("token", "NOT_FOUND")] and answer["cart"] is None
    assert run(client, "Cart", token=str(uuid.uuid4())) is None
    answer = run(client, "CartEmailUpdate", token=str(uuid.uuid4()), email="a@example.com")
    assert problems(answer) == [("token", "NOT_FOUND")]


def test_me_cart_is_null_without_one_and_never_shows_another_users(customer, customer_client):
    assert run(customer_client, "MyCart")["cart"] is None
    make_cart(user=make_user(), lines=[(stocked(), 1)])
    make_cart(user=customer, state=CartState.COMPLETED)
    assert run(customer_client, "MyCart")["cart"] is None
    assert run(Client(), "MyCart") is None


def test_node_finds_only_ones_own_carts(customer, customer_client, client):
    mine = make_cart(user=customer, lines=[(stocked(), 1)])
    guest = make_cart(lines=[(stocked(), 1)])
    query = "query($id: ID!) { node(id: $id) { ... on Cart { token total { amount } } } }"
    assert customer_client.execute(query, {"id": gid("Cart", mine.pk)})["node"] == {
        "token": str(mine.token), "total": {"amount": "10.00"}}
    assert customer_client.execute(query, {"id": gid("Cart", guest.pk)})["node"] is None
    assert client.execute(query, {"id": gid("Cart", mine.pk)})["node"] is None
    line = mine.lines.get()
    query = "query($id: ID!) { node(id: $id) { ... on CartLine { quantity total { amount } } } }"
    assert customer_client.execute(query, {"id": gid("CartLine", line.pk)})["node"] == {
        "quantity": 1, "total": {"amount": "10.00"}}
    assert client.execute(query, {"id": gid("CartLine", line.pk)})["node"] is None


# --- Lines ---------------------------------------------------------------------------------------


def test_adding_a_variant_already_in_the_cart_adds_to_its_line(client):
    variant = stocked()
    cart = make_cart(lines=[(variant, 2)])
    answer = run(client, "CartLinesAdd", token=str(cart.token),
                 lines=[line_input(variant, 3), line_input(variant, 1)])
    assert answer["errors"] == [] and quantities(answer["cart"]) == [(variant.sku, 6)]


def test_more_than_is_available_is_refused_and_the_cart_is_unchanged(client):
    scarce, plenty = stocked(stock=3), stocked(stock=100)
    cart = make_cart(lines=[(scarce, 2)])
    answer = run(client, "CartLinesAdd", token=str(cart.token),
                 lines=[line_input(plenty, 5), line_input(scarce, 2)])
    assert problems(answer) == [("lines.1.quantity", "INSUFFICIENT_STOCK")]
    assert "Only 3 of" in answer["errors"][0]["message"]
    assert list(cart.lines.values_list("variant_id", "quantity")) == [(scarce.pk, 2)]
    line = cart.lines.get()
    answer = run(client, "CartLinesUpdate", token=str(cart.token),
                 lines=[{"lineId": gid("CartLine", line.pk), "quantity": 4}])
    assert problems(answer) == [("lines.0.quantity", "INSUFFICIENT_STOCK")]
    assert cart.lines.get().quantity == 2


@pytest.mark.parametrize("quantity", [0, -1])
def test_adding_nothing_or_less_is_invalid(client, quantity):
    cart = make_cart()
    answer = run(client, "CartLinesAdd", token=str(cart.token),
                 lines=[line_input(stocked(), quantity)])
    assert problems(answer) == [("lines.0.quantity", "INVALID")]
    assert not cart.lines.exists()


@pytest.mark.parametrize("kind", ["unknown", "unpublished", "deleted", "other type",
                                  "malformed"])
def test_a_variant_that_does_not_exist_or_is_not_on_sale_is_not_found(client, kind):
    variant_id = {
        "unknown": lambda: gid("ProductVariant", 999_999),
        "unpublished": lambda: gid("ProductVariant", make_variant(
            product=make_product(is_published=False), stock=5).pk),
        "deleted": lambda: gid("ProductVariant", make_variant(
            product=make_product(deleted=True), stock=5).pk),
        "other type": lambda: gid("Product", stocked().product.pk),
        "malformed": lambda: "not an id",
    }[kind]()
    cart = make_cart()
    answer = run(client, "CartCreate", input={"lines": [{"variantId": variant_id,
                                                         "quantity": 1}]})
    assert problems(answer) == [("lines.0.variantId", "NOT_FOUND")]
    answer = run(client, "CartLinesAdd", token=str(cart.token),
                 lines=[{"variantId": variant_id, "quantity": 1}])
    assert problems(answer) == [("lines.0.variantId", "NOT_FOUND")]
    assert Cart.objects.count() == 1 and not CartLine.objects.exists()


def test_updating_sets_quantities_and_zero_removes(client):
    first, second = stocked(), stocked()
    cart = make_cart(lines=[(first, 1), (second, 1)])
    one, two = cart.lines.all()
    answer = run(client, "CartLinesUpdate", token=str(cart.token), lines=[
        {"lineId": gid("CartLine", one.pk), "quantity": 5},
        {"lineId": gid("CartLine", two.pk), "quantity": 0}])
    assert answer["errors"] == [] and quantities(answer["cart"]) == [(first.sku, 5)]
    answer = run(client, "CartLinesUpdate", token=str(cart.token),
                 lines=[{"lineId": gid("CartLine", one.pk), "quantity": -1}])
    assert problems(answer) == [("lines.0.quantity", "INVALID")]
    assert cart.lines.get().quantity == 5


def test_a_line_of_another_cart_is_not_found(client):
    cart, other = make_cart(lines=[(stocked(), 1)]), make_cart(lines=[(stocked(), 1)])
    foreign = gid("CartLine", other.lines.get().pk)
    answer = run(client, "CartLinesUpdate", token=str(cart.token),
                 lines=[{"lineId": foreign, "quantity": 2}])
    assert problems(answer) == [("lines.0.lineId", "NOT_FOUND")]
    answer = run(client, "CartLinesRemove", token=str(cart.token), lineIds=[foreign, "junk"])
    assert problems(answer) == [("lineIds.0", "NOT_FOUND"), ("lineIds.1", "NOT_FOUND")]
    assert other.lines.count() == 1 and cart.lines.count() == 1


def test_removing_lines(client):
    first, second = stocked(), stocked()
    cart = make_cart(lines=[(first, 1), (second, 2)])
    answer = run(client, "CartLinesRemove", token=str(cart.token),
                 lineIds=[gid("CartLine", cart.lines.first().pk)])
    assert answer["errors"] == [] and quantities(answer["cart"]) == [(second.sku, 2)]


def test_a_line_whose_product_went_off_sale_can_only_be_removed(client, staff):
    from apps.catalog import services as catalog

    variant = stocked()
    cart = make_cart(lines=[(variant, 1)])
    catalog.product_unpublish(actor=staff, product=variant.product)
    line = gid("CartLine", cart.lines.get().pk)
    cart_answer = run(client, "Cart", token=str(cart.token))
    assert [(w["code"], w["lineId"]) for w in cart_answer["warnings"]] == [("UNAVAILABLE", line)]
    assert cart_answer["lines"][0]["variant"]["sku"] == variant.sku  # still shown
    answer = run(client, "CartLinesUpdate", token=str(cart.token),
                 lines=[{"lineId": line, "quantity": 2}])
    assert problems(answer) == [("lines.0.quantity", "INVALID")]
    answer = run(client, "CartLinesUpdate", token=str(cart.token),
                 lines=[{"lineId": line, "quantity": 0}])
    assert answer["errors"] == [] and answer["cart"]["lines"] == []


def test_a_changed_quantity_takes_the_price_the_customer_now_sees(client):
    variant = stocked("10.00")
    cart = make_cart(lines=[(variant, 1)])
    variant.price = Decimal("11.00")
    variant.save()
    assert [w["code"] for w in run(client, "Cart", token=str(cart.token))["warnings"]] == [
        "PRICE_CHANGED"]
    answer = run(client, "CartLinesAdd", token=str(cart.token), lines=[line_input(variant)])
    assert answer["cart"]["warnings"] == []
    assert answer["cart"]["subtotal"]["amount"] == "22.00"


def test_a_cart_holds_a_bounded_number_of_lines(client, monkeypatch):
    monkeypatch.setattr("apps.checkout.services.lines.MAX_LINES", 2)
    cart = make_cart(lines=[(stocked(), 1)])
    answer = run(client, "CartLinesAdd", token=str(cart.token),
                 lines=[line_input(stocked()), line_input(stocked())])
    assert problems(answer) == [("lines", "INVALID")]


# --- Email, coupon, shipping -------------------------------------------------------------------


def test_the_email(client):
    cart = make_cart(email="")
    answer = run(client, "CartEmailUpdate", token=str(cart.token), email=" Ada@Example.COM ")
    assert answer["errors"] == [] and answer["cart"]["email"] == "ada@example.com"
    for bad, code in (("not an email", "INVALID"), ("", "REQUIRED")):
        answer = run(client, "CartEmailUpdate", token=str(cart.token), email=bad)
        assert problems(answer) == [("email", code)]
    cart.refresh_from_db()
    assert cart.email == "ada@example.com"


def test_applying_and_removing_a_coupon(client):
    coupon = make_coupon(code="save10", value=Decimal(10))
    other = make_coupon(code="fiver", discount_type="FIXED_AMOUNT", value=Decimal(5))
    cart = make_cart(lines=[(stocked("20.00"), 2)])
    answer = run(client, "CartCouponApply", token=str(cart.token), code="Save10")
    assert answer["errors"] == []
    assert (answer["cart"]["couponCode"], answer["cart"]["discount"]["amount"]) == (
        "SAVE10", "4.00")
    # One coupon per cart: another replaces it.
    answer = run(client, "CartCouponApply", token=str(cart.token), code="fiver")
    assert (answer["cart"]["couponCode"], answer["cart"]["discount"]["amount"]) == (
        "FIVER", "5.00")
    cart.refresh_from_db()
    assert cart.coupon == other and coupon != other
    answer = run(client, "CartCouponRemove", token=str(cart.token))
    assert answer["cart"]["couponCode"] is None and answer["cart"]["discount"]["amount"] == "0.00"


@pytest.mark.parametrize(("terms", "code", "words"), [
    ({}, "nosuch", "There is no coupon NOSUCH"),
    ({"is_active": False}, None, "is not active"),
    ({"min_subtotal": Decimal("100")}, None, "needs a subtotal of at least"),
    ({"usage_limit": 1}, None, "used up"),
])
def test_a_coupon_that_does_not_apply_is_invalid_coupon_saying_why(client, terms, code, words):
    coupon = make_coupon(code="TRY", **terms)
    if terms.get("usage_limit"):
        from apps.discounts.services import coupon_use_record

        coupon_use_record(coupon=coupon, order_id=1, email="someone@example.com")
    cart = make_cart(lines=[(stocked("20.00"), 1)])
    answer = run(client, "CartCouponApply", token=str(cart.token), code=code or "try")
    assert problems(answer) == [("code", "INVALID_COUPON")]
    assert words in answer["errors"][0]["message"]
    cart.refresh_from_db()
    assert cart.coupon is None


def test_the_shipping_address_and_method(client):
    make_tax_rate(country="US", rate="10")
    ground = make_shipping_method(name="Ground", price="5.00")
    make_shipping_method(name="Overnight", price="25.00")
    abroad = make_shipping_method(countries=("FR",), name="Abroad", price="30.00")
    cart = make_cart(lines=[(stocked("20.00"), 1)])
    answer = run(client, "CartShippingMethodUpdate", token=str(cart.token),
                 shippingMethodId=gid("ShippingMethod", ground.pk))
    assert problems(answer) == [("shippingAddress", "REQUIRED")]

    answer = run(client, "CartShippingAddressUpdate", token=str(cart.token),
                 address={**ADDRESS_INPUT, "country": "us"})
    assert answer["errors"] == []
    assert answer["cart"]["shippingAddress"] == {
        "firstName": "Ada", "lastName": "Lovelace", "streetAddress1": "12 Analytical Row",
        "city": "New York", "postalCode": "10001", "country": "US"}
    assert [(m["name"], m["price"]["amount"]) for m in answer["cart"]["availableShippingMethods"]
            ] == [("Ground", "5.00"), ("Overnight", "25.00")]
    assert answer["cart"]["availableShippingMethods"][0]["id"] == gid("ShippingMethod", ground.pk)

    answer = run(client, "CartShippingMethodUpdate", token=str(cart.token),
                 shippingMethodId=gid("ShippingMethod", abroad.pk))
    assert problems(answer) == [("shippingMethodId", "INVALID")]
    answer = run(client, "CartShippingMethodUpdate", token=str(cart.token),
                 shippingMethodId=gid("ShippingMethod", 999_999))
    assert problems(answer) == [("shippingMethodId", "NOT_FOUND")]
    answer = run(client, "CartShippingMethodUpdate", token=str(cart.token),
                 shippingMethodId=gid("ShippingMethod", ground.pk))
    assert answer["errors"] == []
    assert answer["cart"]["shippingMethod"] == {"id": gid("ShippingMethod", ground.pk),
                                                "name": "Ground",
                                                "price": {"amount": "5.00", "currency": "USD"}}
    assert (answer["cart"]["shippingPrice"]["amount"], answer["cart"]["tax"]["amount"],
            answer["cart"]["total"]["amount"]) == ("5.00", "2.50", "27.50")

    # Moving the address abroad keeps the method, with a warning, uncounted.
    answer = run(client, "CartShippingAddressUpdate", token=str(cart.token),
                 address={**ADDRESS_INPUT, "country": "FR", "countryArea": ""})
    assert [w["code"] for w in answer["cart"]["warnings"]] == ["SHIPPING_METHOD_UNAVAILABLE"]
    assert answer["cart"]["shippingMethod"] is None
    assert answer["cart"]["shippingPrice"]["amount"] == "0.00"
    assert [m["name"] for m in answer["cart"]["availableShippingMethods"]] == ["Abroad"]


def test_an_address_is_checked_as_the_address_book_checks_one(client):
    cart = make_cart()
    answer = run(client, "CartShippingAddressUpdate", token=str(cart.token),
                 address={"firstName": "Ada", "country": "XX"})
    assert sorted(problems(answer)) == [
        ("address.city", "REQUIRED"), ("address.country", "INVALID"),
        ("address.lastName", "REQUIRED"), ("address.streetAddress1", "REQUIRED")]
    cart.refresh_from_db()
    assert not cart.has_shipping_address


# --- Merging a guest's cart ----------------------------------------------------------------------


def test_a_merge_adds_up_caps_at_what_is_available_and_closes_the_guest_cart(
        customer, customer_client):
    shared, scarce, only_guest = stocked(stock=10), stocked(stock=3), stocked(stock=10)
    mine = make_cart(user=customer, lines=[(shared, 2), (scarce, 2)])
    guest = make_cart(lines=[(shared, 3), (scarce, 2), (only_guest, 1)],
                      coupon=make_coupon(code="GUEST"), address=ADDRESS)
    answer = run(customer_client, "CartMerge", token=str(guest.token))
    assert answer["errors"] == []
    cart = answer["cart"]
    assert cart["token"] == str(mine.token)
    assert quantities(cart) == [(shared.sku, 5), (scarce.sku, 3), (only_guest.sku, 1)]
    capped = gid("CartLine", mine.lines.get(variant=scarce).pk)
    assert [(w["code"], w["lineId"]) for w in cart["warnings"]] == [("QUANTITY_CAPPED", capped)]
    # What the customer's cart lacked comes from the guest's.
    assert cart["couponCode"] == "GUEST" and cart["shippingAddress"]["city"] == "New York"
    guest.refresh_from_db()
    assert guest.state == CartState.ABANDONED and not guest.lines.exists()

    # A second call changes nothing.
    again = run(customer_client, "CartMerge", token=str(guest.token))
    assert again["errors"] == [] and again["cart"] == cart

    # The customer's next change of that line forgets the cap.
    answer = run(customer_client, "CartLinesUpdate", token=str(mine.token),
                 lines=[{"lineId": capped, "quantity": 3}])
    assert answer["cart"]["warnings"] == []


def test_a_customer_without_a_cart_takes_the_guest_cart_over(customer, customer_client):
    variant = stocked()
    guest = make_cart(lines=[(variant, 2)], email="")
    answer = run(customer_client, "CartMerge", token=str(guest.token))
    assert answer["cart"]["token"] == str(guest.token)
    assert answer["cart"]["email"] == customer.email
    assert quantities(answer["cart"]) == [(variant.sku, 2)]
    guest.refresh_from_db()
    assert guest.user == customer and guest.state == CartState.ACTIVE
    assert run(customer_client, "MyCart")["cart"]["token"] == str(guest.token)
    assert run(customer_client, "CartMerge", token=str(guest.token))["cart"]["token"] == str(
        guest.token)


def test_merge_needs_a_signed_in_customer_and_a_cart_they_may_reach(customer, customer_client):
    guest = make_cart(lines=[(stocked(), 1)])
    result = Client().post(contract.operations(DOCUMENT, "CartMerge"),
                           {"token": str(guest.token)}, operation_name="CartMerge")
    assert error_codes(result) == ["UNAUTHENTICATED"]
    theirs = make_cart(user=make_user(), lines=[(stocked(), 1)])
    answer = run(customer_client, "CartMerge", token=str(theirs.token))
    assert problems(answer) == [("token", "NOT_FOUND")]
    done = make_cart(lines=[(stocked(), 1)], state=CartState.COMPLETED)
    answer = run(customer_client, "CartMerge", token=str(done.token))
    assert problems(answer) == [("token", "INVALID")]
    assert answer["errors"][0]["message"] == "This cart has been checked out."


def test_the_merge_cap_never_lowers_what_the_customers_line_had():
    assert services.merge.merged_quantity(had=4, adding=3, available=2) == 4
    assert services.merge.merged_quantity(had=1, adding=3, available=2) == 2
    assert services.merge.merged_quantity(had=0, adding=3, available=0) == 3
    assert services.merge.merged_quantity(had=1, adding=1, available=5) == 2


# --- A closed cart ----------------------------------------------------------------------------


@pytest.mark.parametrize("operation", CART_OPERATIONS[3:])
def test_a_checked_out_cart_refuses_every_change(customer, customer_client, operation):
    method = make_shipping_method()
    make_coupon(code="ANY")
    variant = stocked()
    cart = make_cart(user=customer, lines=[(variant, 1)], state=CartState.COMPLETED)
    line = gid("CartLine", cart.lines.get().pk)
    variables = {
        "CartLinesAdd": {"lines": [line_input(variant)]},
        "CartLinesUpdate": {"lines": [{"lineId": line, "quantity": 2}]},
        "CartLinesRemove": {"lineIds": [line]},
        "CartMerge": {},
        "CartEmailUpdate": {"email": "new@example.com"},
        "CartCouponApply": {"code": "ANY"},
        "CartCouponRemove": {},
        "CartShippingAddressUpdate": {"address": ADDRESS_INPUT},
        "CartShippingMethodUpdate": {"shippingMethodId": gid("ShippingMethod", method.pk)},
    }[operation]
    answer = run(customer_client, operation, token=str(cart.token), **variables)
    assert problems(answer) == [("token", "INVALID")]
    assert answer["errors"][0]["message"] == "This cart has been checked out."
    assert cart.lines.get().quantity == 1
    assert run(customer_client, "Cart", token=str(cart.token))["token"] == str(cart.token)


# --- Cost ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 10])
def test_a_cart_costs_the_same_whatever_its_number_of_lines(
        client, django_assert_num_queries, size):
    make_tax_rate(country="US", rate="10")
    method = make_shipping_method()
    coupon = make_coupon()
    lines = [(stocked(), 1) for _ in range(size)]
    cart = make_cart(lines=lines, address=ADDRESS, shipping_method=method, coupon=coupon)
    with django_assert_num_queries(CART_QUERIES):
        answer = run(client, "Cart", token=str(cart.token))
    assert len(answer["lines"]) == size
    assert all(line["variant"]["quantityAvailable"] == 9 + 1 for line in answer["lines"])
    assert answer["discount"]["amount"] == f"{size}.00"


def test_the_operations_fit_the_cost_limit(settings):
    parsed = parse(contract.document(DOCUMENT))
    variables = {"token": str(uuid.uuid4()), "lines": [], "lineIds": [], "email": "",
                 "code": "", "address": {}, "shippingMethodId": "", "input": {},
                 "payment": {"gateway": "dummy", "token": "success"}}
    for operation in [*CART_OPERATIONS, "CheckoutComplete", "PaymentGateways"]:
        cost = operation_cost(schema=schema._schema, document=parsed, operation_name=operation,
                              variables=variables, max_page_size=settings.GRAPHQL_MAX_PAGE_SIZE)
        assert 2 * cost <= settings.GRAPHQL_MAX_COST, (operation, cost)


# The token's user, `me`, the active cart, and the cart's own (CART_QUERIES
# but the look-up by token).
MY_CART_QUERIES = 2 + CART_QUERIES


@pytest.mark.parametrize("size", [1, 10])
def test_me_cart_costs_the_same_whatever_its_number_of_lines(
        customer, customer_client, django_assert_num_queries, size):
    make_tax_rate(country="US", rate="10")
    make_cart(user=customer, lines=[(stocked(), 1) for _ in range(size)], address=ADDRESS,
              shipping_method=make_shipping_method(), coupon=make_coupon())
    with django_assert_num_queries(MY_CART_QUERIES):
        answer = run(customer_client, "MyCart")
    assert len(answer["cart"]["lines"]) == size
