"""The tax rate table, for staff with MANAGE_SHIPPING (apps.taxes.selectors)."""

from __future__ import annotations

from decimal import Decimal

import strawberry_django
from strawberry import relay

from apps.catalog import models as catalog_models
from apps.taxes import models, selectors
from schema.catalog.types import Category
from schema.permissions import visible_through


@strawberry_django.type(models.TaxRate, name="TaxRate")
class TaxRate(relay.Node):
    id: relay.NodeID[int]
    country: str = strawberry_django.field(description="ISO 3166-1 alpha-2.")
    country_area: str = strawberry_django.field(
        description='A region as addresses write it (a US state: "NY"); empty for the whole '
        "country."
    )
    rate: Decimal = strawberry_django.field(description="In percent: 8.875.")

    get_queryset = visible_through(selectors.tax_rates_visible_to)

    @strawberry_django.field(
        select_related=["category"], graphql_type=Category | None,
        description="The rate applies to this category and its descendants; null for any.",
    )
    def category(self, root: models.TaxRate) -> catalog_models.Category | None:
        # Joined: whoever sees the rate (staff) may see its category. Not
        # async_safe: a mutation's answer (not optimized) loads it here.
        return root.category
