from decimal import Decimal

import strawberry
from strawberry import UNSET


@strawberry.input
class TaxRateInput:
    country: str | None = strawberry.field(default=UNSET, description="ISO 3166-1 alpha-2.")
    country_area: str | None = strawberry.field(
        default=UNSET, description="A region (a US state: NY); empty or left out for the whole "
        "country.",
    )
    category_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="The rate then applies to this category and its "
        "descendants; null for any category.",
    )
    rate: Decimal | None = strawberry.field(default=UNSET, description="In percent, 0 to 100.")
