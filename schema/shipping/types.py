"""Shipping types. A method is what a shopper picks at checkout (its name and
price), so everyone sees methods; zones, the shop's set-up, are for staff
with MANAGE_SHIPPING (apps.shipping.selectors)."""

from __future__ import annotations

import strawberry_django
from strawberry import relay

from apps.shipping import models, selectors
from schema.cost import list_size
from schema.money import Money
from schema.permissions import visible_through
from schema.resolvers import async_safe


@strawberry_django.type(models.ShippingMethod, name="ShippingMethod")
class ShippingMethod(relay.Node):
    id: relay.NodeID[int]
    name: str
    min_weight_grams: int | None = strawberry_django.field(
        description="The lightest parcel it takes, in grams (included); null for no minimum."
    )
    max_weight_grams: int | None = strawberry_django.field(
        description="The heaviest parcel it takes, in grams (included); null for no maximum."
    )

    get_queryset = visible_through(selectors.shipping_methods_visible_to)

    @strawberry_django.field(only=["price"], description="The flat price.")
    @async_safe
    def price(self, root: models.ShippingMethod) -> Money:
        return Money.from_money(root.price_money)

    @strawberry_django.field(
        only=["free_above"],
        description="Free for a subtotal at or above this; null when never free.",
    )
    @async_safe
    def free_above(self, root: models.ShippingMethod) -> Money | None:
        threshold = root.free_above_money
        return None if threshold is None else Money.from_money(threshold)


@strawberry_django.type(models.ShippingZone, name="ShippingZone")
class ShippingZone(relay.Node):
    id: relay.NodeID[int]
    name: str
    methods: list[ShippingMethod] = strawberry_django.field(
        description="Cheapest first.", directives=list_size(10)
    )

    get_queryset = visible_through(selectors.shipping_zones_visible_to)

    @strawberry_django.field(
        prefetch_related=["countries"], directives=list_size(30),
        description="ISO 3166-1 alpha-2 codes, in order; a country is in one zone at most.",
    )
    def countries(self, root: models.ShippingZone) -> list[str]:
        # Not async_safe: prefetched in a list, but a mutation's answer (one
        # zone, not optimized) reads them here.
        return [row.country for row in root.countries.all()]
