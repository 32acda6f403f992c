"""apps.checkout.pricing: what a cart costs and what its warnings say,
through price_cart (the cart's GraphQL fields and checkoutComplete read it)."""

from decimal import Decimal

import pytest

from apps.catalog import services as catalog_services
from apps.checkout.pricing import BLOCKING, WarningCode, price_cart
from apps.core.money import Money
from apps.inventory import services as inventory
from tests.factories import (
    ADDRESS,
    make_cart,
    make_category,
    make_coupon,
    make_product,
    make_shipping_method,
    make_tax_rate,
    make_variant,
)

pytestmark = pytest.mark.django_db

# The lines, their availability, the coupon's use counts, its categories and
# products, the shipping methods, the tax rules and the categories' paths.
PRICING_QUERIES = 8


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def variant(price: str = "10.00", stock: int = 50, **product):
    return make_variant(product=make_product(**product), price=price, stock=stock)


def codes(priced) -> list[tuple[WarningCode, int | None]]:
    return [(warning.code, warning.line_id) for warning in priced.warnings]


def assert_adds_up(priced) -> None:
    """The parts always add up: lines to the subtotal, discount and tax;
    subtotal − discount + shipping + tax to the total."""
    assert sum((line.undiscounted_total.amount for line in priced.lines), Decimal(0)) == \
        priced.subtotal.amount
    assert sum((line.discount.amount for line in priced.lines), Decimal(0)) == \
        priced.discount.amount
    assert sum((line.tax.amount for line in priced.lines), priced.shipping_tax.amount) == \
        priced.tax.amount
    assert priced.total == priced.subtotal - priced.discount + priced.shipping_price + priced.tax


@pytest.fixture(autouse=True)
def _shop(settings):
    settings.DEFAULT_COUNTRY = "US"
    settings.DEFAULT_CURRENCY = "USD"


def test_lines_are_priced_live_and_taxed_for_the_default_country_before_an_address():
    make_tax_rate(country="US", rate="10")
    make_tax_rate(country="FR", rate="20")
    first, second = variant("12.50"), variant("3.00")
    priced = price_cart(cart=make_cart(lines=[(first, 2), (second, 3)]))
    assert [line.unit_price for line in priced.lines] == [usd("12.50"), usd("3.00")]
    assert [line.total for line in priced.lines] == [usd("25.00"), usd("9.00")]
    assert (priced.subtotal, priced.discount, priced.shipping_price) == (
        usd("34.00"), usd("0"), usd("0"))
    assert priced.tax == usd("3.40")  # the US rate, the shop's country
    assert priced.total == usd("37.40")
    assert priced.quantity == 5
    assert priced.shipping_methods == () and priced.warnings == ()
    assert_adds_up(priced)


def test_with_an_address_the_address_decides_the_tax_and_the_methods():
    make_tax_rate(country="US", rate="10")
    make_tax_rate(country="FR", rate="20")
    standard = make_shipping_method(countries=("FR",), name="Standard", price="6.00")
    express = make_shipping_method(countries=("FR",), name="Express", price="15.00")
    make_shipping_method(countries=("US",), name="Ground", price="4.00")
    cart = make_cart(lines=[(variant("10.00"), 1)], address={**ADDRESS, "country": "FR"},
                     shipping_method=express)
    priced = price_cart(cart=cart)
    assert [(q.method.name, q.price) for q in priced.shipping_methods] == [
        ("Standard", usd("6.00")), ("Express", usd("15.00"))]
    assert priced.shipping_method.method == express
    assert priced.shipping_price == usd("15.00")
    assert priced.tax == usd("5.00")  # 20% of 10.00 and of 15.00
    assert priced.total == usd("30.00")
    assert standard in [q.method for q in priced.shipping_methods]
    assert_adds_up(priced)


def test_a_percentage_coupon_comes_off_each_line_and_tax_is_on_the_rest():
    make_tax_rate(country="US", rate="8.875")
    coupon = make_coupon(discount_type="PERCENTAGE", value=Decimal("15"))
    cart = make_cart(lines=[(variant("19.99"), 3), (variant("0.05"), 1)], coupon=coupon)
    priced = price_cart(cart=cart)
    assert [line.discount for line in priced.lines] == [usd("9.00"), usd("0.01")]
    assert [line.total for line in priced.lines] == [usd("50.97"), usd("0.04")]
    # 8.875% of 50.97 is 4.5236 and of 0.04 is 0.00355: each rounded on its own.
    assert [line.tax for line in priced.lines] == [usd("4.52"), usd("0.00")]
    assert priced.tax == usd("4.52")
    assert_adds_up(priced)


def test_a_fixed_amount_is_spread_pro_rata_with_the_leftover_cent_on_the_largest_line():
    coupon = make_coupon(discount_type="FIXED_AMOUNT", value=Decimal("10.00"))
    cart = make_cart(lines=[(variant("10.00"), 1), (variant("20.00"), 1), (variant("3.33"), 1)],
                     coupon=coupon)
    priced = price_cart(cart=cart)
    # 10 × (10, 20, 3.33) / 33.33 = 3.0003, 6.0006, 0.9990: rounded down to
    # 3.00, 6.00, 0.99, and the cent left over goes to the 20.00 line.
    assert [line.discount for line in priced.lines] == [usd("3.00"), usd("6.01"), usd("0.99")]
    assert priced.discount == usd("10.00")
    assert_adds_up(priced)


def test_a_fixed_amount_larger_than_the_lines_takes_them_to_zero_not_below():
    coupon = make_coupon(discount_type="FIXED_AMOUNT", value=Decimal("100"))
    priced = price_cart(cart=make_cart(lines=[(variant("7.00"), 2)], coupon=coupon))
    assert priced.discount == usd("14.00") and priced.lines[0].total == usd("0")
    assert_adds_up(priced)


def test_a_scoped_coupon_applies_to_its_lines_only():
    perfume = make_category(name="Perfume")
    niche = make_category(name="Niche", parent=perfume)
    coupon = make_coupon(discount_type="PERCENTAGE", value=Decimal("50"), categories=[perfume])
    in_scope = variant("40.00", category=niche)  # a descendant counts
    outside = variant("40.00", category=make_category(name="Candles"))
    priced = price_cart(cart=make_cart(lines=[(in_scope, 1), (outside, 1)], coupon=coupon))
    assert [line.discount for line in priced.lines] == [usd("20.00"), usd("0")]
    assert_adds_up(priced)


def test_free_shipping_zeroes_the_shipping_of_every_method():
    make_tax_rate(country="US", rate="10")
    method = make_shipping_method(price="8.00")
    make_shipping_method(name="Express", price="20.00")
    coupon = make_coupon(discount_type="FREE_SHIPPING", value=None)
    cart = make_cart(lines=[(variant("10.00"), 1)], address=ADDRESS, shipping_method=method,
                     coupon=coupon)
    priced = price_cart(cart=cart)
    assert priced.free_shipping and priced.discount == usd("0")
    assert [quote.price for quote in priced.shipping_methods] == [usd("0"), usd("0")]
    assert (priced.shipping_price, priced.tax, priced.total) == (usd("0"), usd("1.00"),
                                                                 usd("11.00"))


def test_the_free_above_threshold_counts_the_subtotal_after_the_discount():
    method = make_shipping_method(price="5.00", free_above="50.00")
    line = variant("50.00")
    cart = make_cart(lines=[(line, 1)], address=ADDRESS, shipping_method=method)
    assert price_cart(cart=cart).shipping_price == usd("0")  # at the threshold: free
    cart.coupon = make_coupon(discount_type="FIXED_AMOUNT", value=Decimal("1"))
    cart.save()
    priced = price_cart(cart=cart)
    assert priced.subtotal - priced.discount == usd("49.00")
    assert priced.shipping_price == usd("5.00")
    assert priced.shipping_methods[0].price == usd("5.00")


def test_methods_follow_the_weight_of_the_cart():
    light = make_shipping_method(name="Letter", price="2.00", max_weight_grams=500)
    make_shipping_method(name="Parcel", price="7.00")
    heavy = make_variant(product=make_product(), price="10.00", stock=10, weight_grams=300)
    cart = make_cart(lines=[(heavy, 1)], address=ADDRESS, shipping_method=light)
    assert [q.method.name for q in price_cart(cart=cart).shipping_methods] == ["Letter",
                                                                               "Parcel"]
    cart.lines.update(quantity=2)
    priced = price_cart(cart=cart)
    assert [q.method.name for q in priced.shipping_methods] == ["Parcel"]
    assert codes(priced) == [(WarningCode.SHIPPING_METHOD_UNAVAILABLE, None)]
    assert priced.shipping_price == usd("0")  # not counted while it does not serve


@pytest.mark.parametrize("rate", ["7.25", "8.875", "19", "0.5"])
def test_tax_is_rounded_per_line_and_the_parts_always_add_up(rate):
    make_tax_rate(country="US", rate=rate)
    method = make_shipping_method(price="4.99")
    coupon = make_coupon(discount_type="FIXED_AMOUNT", value=Decimal("7.77"))
    lines = [(variant(price), quantity) for price, quantity in
             [("0.33", 7), ("19.99", 1), ("4.45", 3), ("1.01", 11)]]
    priced = price_cart(cart=make_cart(lines=lines, address=ADDRESS, shipping_method=method,
                                       coupon=coupon))
    assert priced.discount == usd("7.77")
    for line in priced.lines:
        assert line.tax == (line.total * Decimal(rate) / 100).rounded()
    assert_adds_up(priced)


# --- Warnings --------------------------------------------------------------------------------


def test_a_price_changed_since_the_line_was_added():
    line_variant = variant("10.00")
    cart = make_cart(lines=[(line_variant, 1)])
    line_variant.price = Decimal("12.00")
    line_variant.save()
    priced = price_cart(cart=cart)
    line = cart.lines.get()
    assert codes(priced) == [(WarningCode.PRICE_CHANGED, line.pk)]
    assert "from 10.00 USD to 12.00 USD" in priced.warnings[0].message
    assert priced.subtotal == usd("12.00")  # the new price
    assert not priced.blocking_warnings


def test_stock_that_fell_below_a_line_warns_and_blocks_but_keeps_the_quantity(staff):
    line_variant = variant(stock=5)
    cart = make_cart(lines=[(line_variant, 4)])
    inventory.stock_adjust(actor=staff, variant=line_variant, delta=-3, reason="breakage")
    priced = price_cart(cart=cart)
    assert codes(priced) == [(WarningCode.INSUFFICIENT_STOCK, cart.lines.get().pk)]
    assert "Only 2 of" in priced.warnings[0].message
    assert priced.lines[0].quantity == 4 and priced.blocking_warnings


@pytest.mark.parametrize("move", ["product_unpublish", "product_delete"])
def test_a_product_off_sale_is_unavailable_and_blocks(staff, move):
    line_variant = variant()
    cart = make_cart(lines=[(line_variant, 1), (variant(), 1)])
    getattr(catalog_services, move)(actor=staff, product=line_variant.product)
    priced = price_cart(cart=cart)
    assert codes(priced) == [(WarningCode.UNAVAILABLE, cart.lines.first().pk)]
    assert BLOCKING[WarningCode.UNAVAILABLE] and priced.blocking_warnings


def test_a_coupon_that_stopped_applying_warns_and_takes_nothing_off(staff):
    from apps.discounts import services as discounts

    coupon = make_coupon(min_subtotal=Decimal("20"))
    cart = make_cart(lines=[(variant("25.00"), 1)], coupon=coupon)
    assert price_cart(cart=cart).discount == usd("2.50")
    discounts.coupon_update(actor=staff, coupon=coupon, is_active=False)
    priced = price_cart(cart=cart)
    assert codes(priced) == [(WarningCode.COUPON_NOT_APPLICABLE, None)]
    assert "not active" in priced.warnings[0].message
    assert priced.discount == usd("0") and priced.blocking_warnings


def test_line_warnings_come_first_in_the_order_of_the_lines(staff):
    coupon = make_coupon(min_subtotal=Decimal("1000"))
    first, second = variant("1.00"), variant("2.00")
    cart = make_cart(lines=[(first, 1), (second, 1)], coupon=coupon)
    for changed in (second, first):
        changed.price += 1
        changed.save()
    priced = price_cart(cart=cart)
    ids = list(cart.lines.values_list("pk", flat=True))
    assert codes(priced) == [(WarningCode.PRICE_CHANGED, ids[0]),
                             (WarningCode.PRICE_CHANGED, ids[1]),
                             (WarningCode.COUPON_NOT_APPLICABLE, None)]


@pytest.mark.parametrize("size", [1, 10])
def test_pricing_costs_the_same_whatever_the_number_of_lines(django_assert_num_queries, size):
    make_tax_rate(country="US", rate="10")
    method = make_shipping_method(price="5.00")
    category = make_category()
    coupon = make_coupon(categories=[category])
    lines = [(variant(category=category), 1) for _ in range(size)]
    cart = make_cart(lines=lines, address=ADDRESS, shipping_method=method, coupon=coupon)
    cart = type(cart).objects.select_related("user", "coupon", "shipping_method").get(pk=cart.pk)
    with django_assert_num_queries(PRICING_QUERIES):
        priced = price_cart(cart=cart)
    assert len(priced.lines) == size and priced.discount == usd(str(size))
