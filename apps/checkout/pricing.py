"""What a cart costs, worked out live every time it is read.

`price_cart` reads the cart's lines with their variants and products, their
availability, the coupon's terms and uses, the shipping methods and the tax
table, in a fixed number of queries whatever the number of lines (one for
the lines, one for availability, three for a coupon, one for shipping, two
for tax), and answers a frozen PricedCart. The cart shows it and
checkoutComplete places the order from it, so a customer is charged what
was shown.

The order of the computation, each amount rounded half up to the
currency's places once (apps.core.money):

1. each line's unit price is its variant's price now, its total the unit
   price times the quantity; the subtotal is the sum of the line totals;
2. the coupon (apps.discounts.rules) takes its discount off the lines it
   applies to: a percentage line by line, a fixed amount spread pro rata
   with the leftover cent on the largest line, so the line discounts add
   up to the cart's discount; FREE_SHIPPING zeroes shipping instead;
3. shipping: the methods serving the address and the parcel's weight, each
   priced for the subtotal after the discount (free at or above its
   threshold); the chosen one's price is the cart's shipping price;
4. tax (apps.taxes.calculation) on each line's discounted amount and on the
   shipping price, at the rates of the address (of settings.DEFAULT_COUNTRY
   before there is one), rounded per line; the cart's tax is their sum;
5. total = subtotal − discount + shipping + tax, so the parts always add up.

Nothing here changes the cart: what changed since a line was added, or
what stops a checkout, is a warning (WarningCode).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from django.utils import timezone

from apps.catalog.models import Product
from apps.checkout.models import Cart, CartLine
from apps.core.errors import ErrorCode
from apps.core.money import Money, shop_currency
from apps.discounts.rules import CouponApplies, CouponLine
from apps.discounts.selectors import coupon_check
from apps.inventory.selectors import quantity_available_by_variant
from apps.shipping.selectors import ShippingQuote, shipping_methods_for
from apps.taxes.calculation import TaxableLine, compute_tax
from apps.taxes.selectors import tax_table_for


class WarningCode(StrEnum):
    """What a cart's `warnings` say. Those in BLOCKING stop checkoutComplete
    until the customer acts; the others are for the customer to know."""

    # The variant's price is not what it was when the line was added (or its
    # quantity last changed); the cart is priced at the new one.
    PRICE_CHANGED = "PRICE_CHANGED"
    # Less is available than the line's quantity; the quantity is not
    # changed for the customer: they lower it or remove the line.
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    # The product was unpublished or deleted since it was added: remove it.
    UNAVAILABLE = "UNAVAILABLE"
    # The coupon on the cart stopped applying (expired, used up, the cart
    # changed below its minimum...): it takes nothing off, and checkout
    # refuses it rather than charge a total other than the one shown.
    COUPON_NOT_APPLICABLE = "COUPON_NOT_APPLICABLE"
    # The chosen method no longer serves the address or the parcel.
    SHIPPING_METHOD_UNAVAILABLE = "SHIPPING_METHOD_UNAVAILABLE"
    # A merge added up more than is available and took only that much.
    QUANTITY_CAPPED = "QUANTITY_CAPPED"


# The warnings that stop a checkout, with the code checkoutComplete answers.
BLOCKING: Mapping[WarningCode, ErrorCode] = {
    WarningCode.INSUFFICIENT_STOCK: ErrorCode.INSUFFICIENT_STOCK,
    WarningCode.UNAVAILABLE: ErrorCode.INVALID,
    WarningCode.COUPON_NOT_APPLICABLE: ErrorCode.INVALID_COUPON,
    WarningCode.SHIPPING_METHOD_UNAVAILABLE: ErrorCode.INVALID,
}


@dataclass(frozen=True, slots=True)
class CartWarning:
    code: WarningCode
    message: str
    line_id: int | None = None

    @property
    def blocks_checkout(self) -> bool:
        return self.code in BLOCKING


@dataclass(frozen=True, slots=True)
class PricedLine:
    line: CartLine  # with its variant, product and category
    unit_price: Money
    undiscounted_total: Money  # unit price × quantity
    discount: Money
    tax: Money  # on `total`
    tax_rate: Decimal  # percent
    quantity_available: int
    on_sale: bool  # its product is published and not deleted

    @property
    def quantity(self) -> int:
        return self.line.quantity

    @property
    def total(self) -> Money:
        """Unit price × quantity less the line's discount, before tax: what an
        order line's total will be."""
        return self.undiscounted_total - self.discount


@dataclass(frozen=True, slots=True)
class PricedCart:
    cart: Cart
    currency: str
    lines: tuple[PricedLine, ...]
    subtotal: Money  # the lines' undiscounted totals
    discount: Money
    shipping_price: Money
    shipping_tax: Money
    tax: Money  # the lines' tax and the shipping's
    total: Money
    # The methods serving the address and parcel, cheapest first, each at
    # its price for this cart; none before an address.
    shipping_methods: tuple[ShippingQuote, ...]
    # The chosen method, while it serves the cart.
    shipping_method: ShippingQuote | None
    free_shipping: bool  # a FREE_SHIPPING coupon applies
    weight_grams: int
    warnings: tuple[CartWarning, ...]
    lines_by_id: Mapping[int, PricedLine]

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def blocking_warnings(self) -> tuple[CartWarning, ...]:
        return tuple(warning for warning in self.warnings if warning.blocks_checkout)


def line_name(line: CartLine) -> str:
    """How warnings and errors name a line: its product, and its variant."""
    variant = line.variant
    name = variant.product.name
    return f"{name} ({variant.name})" if variant.name else name


def _sum(amounts: list[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for amount in amounts:
        total = total + amount
    return total


def _line_warnings(line: CartLine, *, available: int, on_sale: bool) -> list[CartWarning]:
    name = line_name(line)
    if not on_sale:
        return [CartWarning(WarningCode.UNAVAILABLE,
                            f"{name} is no longer available: remove it to check out.", line.pk)]
    warnings = []
    price, was = line.variant.price, line.price_when_added
    if price != was:
        warnings.append(CartWarning(
            WarningCode.PRICE_CHANGED,
            f"The price of {name} changed from {Money.of(was)} to {Money.of(price)}.", line.pk,
        ))
    if available < line.quantity:
        message = (f"{name} is out of stock." if available <= 0 else
                   f"Only {available} of {name} are available; the cart has {line.quantity}.")
        warnings.append(CartWarning(WarningCode.INSUFFICIENT_STOCK, message, line.pk))
    requested = line.requested_quantity
    if requested is not None and requested > line.quantity:
        warnings.append(CartWarning(
            WarningCode.QUANTITY_CAPPED,
            f"Only {line.quantity} of {name} were available, so the cart has "
            f"{line.quantity} rather than {requested}.", line.pk,
        ))
    return warnings


def cart_lines(cart: Cart) -> list[CartLine]:
    """The cart's lines, oldest first, with their variants, products and
    categories: one query. Through the cart's related manager, so that each
    line's `cart` is this very object."""
    return list(cart.lines.select_related("variant__product__category"))


def coupon_lines(lines: list[CartLine]) -> list[CouponLine]:
    """The lines as the coupon rules take them."""
    return [
        CouponLine(
            product_id=line.variant.product_id,
            category_path=(line.variant.product.category.path
                           if line.variant.product.category is not None else None),
            quantity=line.quantity,
            unit_price=Money.of(line.variant.price),
        )
        for line in lines
    ]


def on_sale(product: Product) -> bool:
    """Whether a line's product can still be bought: published, not deleted."""
    return product.deleted_at is None and product.is_published


@dataclass(frozen=True, slots=True)
class _Coupon:
    discounts: list[Money]  # one a line
    free_shipping: bool
    warning: CartWarning | None


def _coupon(cart: Cart, lines: list[CartLine], now: datetime, zero: Money) -> _Coupon:
    """What the cart's coupon takes off each line (three queries)."""
    nothing = [zero] * len(lines)
    if cart.coupon is None:
        return _Coupon(nothing, False, None)
    answer = coupon_check(coupon=cart.coupon, lines=coupon_lines(lines), email=cart.email,
                          user=cart.user if cart.user_id else None, now=now)
    if isinstance(answer, CouponApplies):
        return _Coupon(list(answer.line_discounts) or nothing, answer.free_shipping, None)
    return _Coupon(nothing, False, CartWarning(WarningCode.COUPON_NOT_APPLICABLE, answer.message))


@dataclass(frozen=True, slots=True)
class _Shipping:
    quotes: list[ShippingQuote]
    chosen: ShippingQuote | None
    warning: CartWarning | None


def _shipping(cart: Cart, lines: list[CartLine], *, subtotal: Money, weight: int,
              free: bool) -> _Shipping:
    """The methods serving the cart at their prices for `subtotal` (one
    query), and the chosen one while it serves."""
    if not (cart.has_shipping_address and lines):
        return _Shipping([], None, None)
    quotes = shipping_methods_for(country=cart.shipping_country, subtotal=subtotal,
                                  weight_grams=weight)
    if free:
        quotes = [ShippingQuote(method=quote.method, price=Money.zero(subtotal.currency))
                  for quote in quotes]
    if cart.shipping_method_id is None:
        return _Shipping(quotes, None, None)
    chosen = next((q for q in quotes if q.method.pk == cart.shipping_method_id), None)
    if chosen is not None:
        return _Shipping(quotes, chosen, None)
    name = cart.shipping_method.name if cart.shipping_method else "The chosen shipping method"
    return _Shipping(quotes, None, CartWarning(
        WarningCode.SHIPPING_METHOD_UNAVAILABLE,
        f"{name} does not ship this cart to {cart.shipping_country}: choose another method.",
    ))


def price_cart(*, cart: Cart, now: datetime | None = None) -> PricedCart:
    """The cart priced now (see the module's docstring for the order)."""
    currency = shop_currency()
    zero = Money.zero(currency)
    lines = cart_lines(cart)
    available = (quantity_available_by_variant(variant_ids={line.variant_id for line in lines})
                 if lines else {})
    totals = [Money.of(line.variant.price, currency) * line.quantity for line in lines]
    subtotal = _sum(totals, currency)
    coupon = _coupon(cart, lines, now or timezone.now(), zero)
    discount = _sum(coupon.discounts, currency)
    weight = sum((line.variant.weight_grams or 0) * line.quantity for line in lines)
    shipping = _shipping(cart, lines, subtotal=subtotal - discount, weight=weight,
                         free=coupon.free_shipping)
    shipping_price = shipping.chosen.price if shipping.chosen is not None else zero

    table = tax_table_for(
        country=cart.shipping_country or None, country_area=cart.shipping_country_area,
        category_ids={line.variant.product.category_id for line in lines
                      if line.variant.product.category_id is not None},
    )
    taxes = compute_tax(
        table=table, shipping=shipping_price,
        lines=[TaxableLine(amount=total - line_discount,
                           category_id=line.variant.product.category_id)
               for line, total, line_discount in zip(lines, totals, coupon.discounts)],
    )

    priced = []
    warnings: list[CartWarning] = []
    for line, total, line_discount, line_tax in zip(lines, totals, coupon.discounts,
                                                    taxes.lines):
        product = line.variant.product
        quantity_available = available.get(line.variant_id, 0)
        warnings.extend(_line_warnings(line, available=quantity_available,
                                       on_sale=on_sale(product)))
        priced.append(PricedLine(
            line=line, unit_price=Money.of(line.variant.price, currency),
            undiscounted_total=total, discount=line_discount, tax=line_tax,
            tax_rate=table.rate_for(product.category_id),
            quantity_available=quantity_available, on_sale=on_sale(product),
        ))
    # Line warnings first, in the order of the lines, then the cart's own.
    warnings += [warning for warning in (coupon.warning, shipping.warning) if warning]
    tax = taxes.total
    return PricedCart(
        cart=cart, currency=currency, lines=tuple(priced), subtotal=subtotal, discount=discount,
        shipping_price=shipping_price, shipping_tax=taxes.shipping, tax=tax,
        total=subtotal - discount + shipping_price + tax,
        shipping_methods=tuple(shipping.quotes), shipping_method=shipping.chosen,
        free_shipping=coupon.free_shipping, weight_grams=weight, warnings=tuple(warnings),
        lines_by_id={line.line.pk: line for line in priced},
    )
