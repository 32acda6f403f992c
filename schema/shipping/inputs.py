from decimal import Decimal

import strawberry
from strawberry import UNSET


@strawberry.input
class ShippingZoneInput:
    name: str | None = UNSET
    countries: list[str] | None = strawberry.field(
        default=UNSET,
        description="ISO 3166-1 alpha-2 codes; on update the whole set, replacing the old one. "
        "A country already in another zone is UNIQUE.",
    )


@strawberry.input
class ShippingMethodInput:
    name: str | None = UNSET
    price: Decimal | None = strawberry.field(
        default=UNSET, description="The flat price, in the shop's currency."
    )
    free_above: Decimal | None = strawberry.field(
        default=UNSET, description="Free for a subtotal at or above this; null: never free."
    )
    min_weight_grams: int | None = UNSET
    max_weight_grams: int | None = UNSET
