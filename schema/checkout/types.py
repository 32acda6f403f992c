"""Cart types. What a cart shows about money, stock and shipping comes from
its pricing (apps.checkout.pricing.price_cart), worked out once for each cart
object a request answers: every field of one answer reads the same prices,
and a cart with a hundred lines costs what one with one line costs.

A cart is found by its token (`cart(token:)`, anyone holding a guest's
token; a customer's cart only by its customer) or as `me.cart`; `node(id:)`
finds only one's own carts and lines (apps.checkout.selectors).
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
import strawberry_django
from asgiref.sync import sync_to_async
from strawberry import Info, relay

from apps.catalog import models as catalog_models
from apps.accounts.services import ADDRESS_FIELDS
from apps.checkout import models, pricing, selectors
from apps.checkout.services import MAX_LINES
from apps.shipping import models as shipping_models
from apps.shipping.selectors import ShippingQuote as Quote
from schema.catalog import dataloaders as catalog_dataloaders
from schema.catalog.types import ProductVariant
from schema.cost import list_size
from schema.money import Money
from schema.orders.types import OrderAddress
from schema.permissions import visible_through
from schema.resolvers import async_safe
from schema.shipping.types import ShippingMethod

strawberry.enum(
    pricing.WarningCode, name="CartWarningCode",
    description="What a cart warning says. PRICE_CHANGED: a line's price is not what it was "
    "when it was added. INSUFFICIENT_STOCK: less is available than a line's quantity (it is "
    "never lowered for the customer). UNAVAILABLE: a line's product was unpublished or "
    "deleted. COUPON_NOT_APPLICABLE: the coupon stopped applying and takes nothing off. "
    "SHIPPING_METHOD_UNAVAILABLE: the chosen method no longer serves the address or parcel. "
    "QUANTITY_CAPPED: a merge added up more than is available and took only that. All but "
    "PRICE_CHANGED and QUANTITY_CAPPED stop checkoutComplete until the customer acts.",
)
WarningCode = pricing.WarningCode

# Where a cart object keeps its pricing for the rest of the request.
PRICED = "_priced_cart"


def priced(cart: models.Cart) -> pricing.PricedCart:
    """The cart's pricing, worked out once per cart object (see the module)."""
    found: pricing.PricedCart | None = cart.__dict__.get(PRICED)
    if found is None:
        found = cart.__dict__[PRICED] = pricing.price_cart(cart=cart)
    return found


async def priced_async(cart: models.Cart) -> pricing.PricedCart:
    """`priced` from a resolver on the event loop: only the first field of a
    cart waits for the database (fields of one cart take turns on the one
    database thread, so the others then find the pricing made)."""
    found: pricing.PricedCart | None = cart.__dict__.get(PRICED)
    return found if found is not None else await sync_to_async(priced)(cart)


def line_id(pk: int) -> strawberry.ID:
    return strawberry.ID(relay.to_base64("CartLine", pk))


@strawberry.type(description="Something the customer should know about the cart.")
class CartWarning:
    code: WarningCode
    message: str
    line_id: strawberry.ID | None = strawberry.field(
        description="The line it is about; null for the whole cart (coupon, shipping)."
    )

    @classmethod
    def of(cls, warning: pricing.CartWarning) -> "CartWarning":
        return cls(code=warning.code, message=warning.message,
                   line_id=None if warning.line_id is None else line_id(warning.line_id))


@strawberry.type(name="CartAddress", description="Where a cart ships to.")
class CartAddress(OrderAddress):
    """The fields of an order's address: the cart's becomes the order's."""

    @classmethod
    def of(cls, cart: models.Cart) -> "CartAddress":
        return cls(**{name: getattr(cart, f"shipping_{name}") for name in ADDRESS_FIELDS})


@strawberry.type(description="A shipping method that serves the cart, at its price for this "
                 "cart (free at or above its threshold, or with a FREE_SHIPPING coupon).")
class ShippingQuote:
    id: strawberry.ID = strawberry.field(description="The ShippingMethod's ID, as "
                                         "cartShippingMethodUpdate takes it.")
    name: str
    price: Money
    method: shipping_models.ShippingMethod = strawberry.field(
        graphql_type=ShippingMethod, description="The method, with its flat price and limits."
    )

    @classmethod
    def of(cls, quote: Quote) -> "ShippingQuote":
        return cls(id=strawberry.ID(relay.to_base64("ShippingMethod", quote.method.pk)),
                   name=quote.method.name, price=Money.from_money(quote.price),
                   method=quote.method)


async def priced_line(root: models.CartLine) -> pricing.PricedLine:
    """The line's part of its cart's pricing: at hand when the line came from
    `Cart.lines`, worked out (for the whole cart) when it came from `node`."""
    if models.CartLine.cart.is_cached(root):
        view = await priced_async(root.cart)
    else:
        view = await sync_to_async(lambda: priced(root.cart))()
    return view.lines_by_id[root.pk]


def priced_money(view: Callable[[Any], Awaitable[Any]], name: str, description: str) -> Any:
    """A field answering the amount `name` of what `view(root)` gives: the
    cart's or the line's part of the cart's pricing."""

    @strawberry_django.field(description=description)
    async def resolve(root: Any) -> Money:
        amount: Any = getattr(await view(root), name)
        return Money.from_money(amount)

    return resolve


# Not optimized: a cart's lines, prices and stock come from its pricing, in a
# fixed number of queries of its own; `only()` would defer what it reads.
@strawberry_django.type(models.CartLine, name="CartLine", disable_optimization=True)
class CartLine(relay.Node):
    id: relay.NodeID[int]
    quantity: int
    created_at: datetime

    unit_price = priced_money(priced_line, "unit_price", "The variant's price now, before "
                              "tax.")
    discount = priced_money(priced_line, "discount", "The coupon's share taken off this line.")
    total = priced_money(priced_line, "total", "unit price × quantity − discount, before tax.")
    tax = priced_money(priced_line, "tax", "On the line's total, at the rate of the address "
                       "(of the shop's country before there is one).")

    get_queryset = visible_through(selectors.cart_lines_visible_to)

    @strawberry_django.field(graphql_type=ProductVariant)
    async def variant(self, root: models.CartLine) -> catalog_models.ProductVariant:
        # Joined, not filtered through ProductVariant.get_queryset: a line
        # keeps showing its variant once the product is off sale (with an
        # UNAVAILABLE warning).
        if models.CartLine.variant.is_cached(root):
            return root.variant
        return await sync_to_async(lambda: root.variant)()


@strawberry_django.type(models.Cart, name="Cart", disable_optimization=True)
class Cart(relay.Node):
    id: relay.NodeID[int]
    token: UUID = strawberry_django.field(description="The cart's key: whoever holds a "
                                          "guest's cart token reads and changes the cart.")
    created_at: datetime
    updated_at: datetime

    subtotal = priced_money(priced_async, "subtotal", "Unit price × quantity of every line, "
                            "before discount.")
    discount = priced_money(priced_async, "discount", "What the coupon takes off the lines "
                            "(the sum of the lines' discounts).")
    shipping_price = priced_money(priced_async, "shipping_price", "The chosen method's price "
                                  "for this cart; 0 until one is chosen.")
    tax = priced_money(priced_async, "tax", "On the discounted lines and on shipping, each "
                       "rounded on its own; before an address, at the shop's country's rates.")
    total = priced_money(priced_async, "total", "subtotal − discount + shipping + tax.")

    get_queryset = visible_through(selectors.carts_visible_to)

    @strawberry_django.field(description="Where the order confirmation goes.")
    @async_safe
    def email(self, root: models.Cart) -> str | None:
        return root.email or None

    @strawberry_django.field(description="The number of items: the lines' quantities "
                             "added up.")
    async def quantity(self, root: models.Cart) -> int:
        return (await priced_async(root)).quantity

    @strawberry_django.field(graphql_type=list[CartLine], directives=list_size(MAX_LINES),
                             description="Oldest first.")
    async def lines(self, root: models.Cart, info: Info) -> list[models.CartLine]:
        view = await priced_async(root)
        # The variants' availability was read with the prices: the variant
        # fields need not read it again.
        info.context.loader(catalog_dataloaders.variant_quantity_available).prime_many(
            {line.line.variant_id: line.quantity_available for line in view.lines}
        )
        return [line.line for line in view.lines]

    @strawberry_django.field(description="The coupon on the cart, in upper case; it may have "
                             "stopped applying (a COUPON_NOT_APPLICABLE warning).")
    async def coupon_code(self, root: models.Cart) -> str | None:
        view = await priced_async(root)
        return view.cart.coupon.code if view.cart.coupon is not None else None

    @strawberry_django.field(description="Null until given.")
    @async_safe
    def shipping_address(self, root: models.Cart) -> CartAddress | None:
        return CartAddress.of(root) if root.has_shipping_address else None

    @strawberry_django.field(description="The chosen method at its price for this cart; "
                             "null until chosen, or while it no longer serves the cart "
                             "(SHIPPING_METHOD_UNAVAILABLE).")
    async def shipping_method(self, root: models.Cart) -> ShippingQuote | None:
        chosen = (await priced_async(root)).shipping_method
        return None if chosen is None else ShippingQuote.of(chosen)

    @strawberry_django.field(description="The methods that ship this cart to its address, "
                             "cheapest first; none before an address.",
                             directives=list_size(20))
    async def available_shipping_methods(self, root: models.Cart) -> list[ShippingQuote]:
        return [ShippingQuote.of(quote) for quote in (await priced_async(root)).shipping_methods]

    @strawberry_django.field(description="What changed since lines were added, and what "
                             "stops checkout; the lines' first, in their order.",
                             directives=list_size(2 * MAX_LINES + 2))
    async def warnings(self, root: models.Cart) -> list[CartWarning]:
        return [CartWarning.of(warning) for warning in (await priced_async(root)).warnings]
