"""The Coupon type: for staff with MANAGE_DISCOUNTS (apps.discounts.selectors)."""

from datetime import datetime
from decimal import Decimal

import strawberry
import strawberry_django
from strawberry import relay

from apps.discounts import models, selectors
from schema.catalog.types import Category, Product
from schema.cost import list_size
from schema.money import Money
from schema.permissions import visible_through
from schema.resolvers import async_safe

# strawberry.enum marks the model's choices in place: the model's enum is the
# GraphQL one.
strawberry.enum(
    models.DiscountType, name="DiscountType",
    description="PERCENTAGE takes `value` percent off the lines a coupon applies to, "
    "FIXED_AMOUNT takes `value` off them (spread pro rata), FREE_SHIPPING makes shipping "
    "free and has no value.",
)
DiscountType = models.DiscountType


@strawberry_django.type(models.Coupon, name="Coupon")
class Coupon(relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry_django.field(description="Stored in upper case; shoppers may "
                                        "type it in any case.")
    discount_type: DiscountType
    value: Decimal | None = strawberry_django.field(
        description="A percentage (PERCENTAGE) or an amount in the shop's currency "
        "(FIXED_AMOUNT); null for FREE_SHIPPING."
    )
    usage_limit: int | None = strawberry_django.field(
        description="Placed orders that may use it in all; null: no limit."
    )
    usage_limit_per_user: int | None = strawberry_django.field(
        description="Placed orders one customer may use it on (by account and by email); "
        "null: no limit."
    )
    valid_from: datetime | None
    valid_until: datetime | None = strawberry_django.field(
        description="The first moment it no longer applies."
    )
    is_active: bool
    created_at: datetime
    categories: list[Category] = strawberry_django.field(
        description="Its scope, with their subcategories; with `products` empty too, every "
        "line.", directives=list_size(20),
    )
    products: list[Product] = strawberry_django.field(
        description="Its scope, beside `categories`.", directives=list_size(20),
    )

    get_queryset = visible_through(selectors.coupons_visible_to)

    @strawberry_django.field(only=["min_subtotal"], description="Of the lines it applies "
                             "to, before any discount; null: none.")
    @async_safe
    def min_subtotal(self, root: models.Coupon) -> Money | None:
        return Money.of(root.min_subtotal)

    @strawberry_django.field(
        annotate={"used_count": selectors.counted_uses()},
        description="Placed orders that used it, not counting those cancelled or expired.",
    )
    @async_safe
    def used_count(self, root: models.Coupon) -> int:
        # Annotated by the optimizer on lists and nodes, and by
        # selectors.coupon_counted on what a mutation answers.
        return int(root.used_count)  # type: ignore[attr-defined]
