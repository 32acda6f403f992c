"""The storefront's product filter and order inputs, and their translation
into the selector's plain terms (global IDs decoded, one-of orders flattened)."""

from decimal import Decimal
from typing import Optional

import strawberry
from strawberry_django.ordering import Ordering

from apps.catalog.selectors import ProductFilters
from schema.errors import bad_user_input
from schema.ids import pk_from_global_id


@strawberry.input(description="A price interval, bounds included.")
class ProductPriceFilter:
    gte: Decimal | None = None
    lte: Decimal | None = None


@strawberry.input(description="The product has this attribute with any of these values.")
class ProductAttributeFilter:
    name: str
    values: list[str]


@strawberry.input
class ProductFilter:
    search: str | None = strawberry.field(
        default=None, description="Words in the name, SKUs, attributes or description."
    )
    categories: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Category IDs; their subcategories are included."
    )
    price: ProductPriceFilter | None = strawberry.field(
        default=None, description="Some variant's price lies in the interval."
    )
    in_stock: bool | None = None
    min_rating: float | None = strawberry.field(
        default=None, description="Average rating of visible reviews, 0 to 5."
    )
    attributes: list[ProductAttributeFilter] | None = strawberry.field(
        default=None, description="Every given attribute must match."
    )
    is_published: bool | None = strawberry.field(
        default=None, description="Catalog managers only."
    )
    AND: list["ProductFilter"] | None = strawberry.field(
        default=None, description="Every one of these must match too."
    )
    OR: list["ProductFilter"] | None = strawberry.field(
        default=None, description="At least one of these must match too."
    )
    NOT: Optional["ProductFilter"] = strawberry.field(
        default=None, description="This must not match."
    )


@strawberry.input(
    one_of=True,
    description=(
        "One sort key; a list of them applies in order, then the product ID. Products "
        "without a price or a rating sort last either way."
    ),
)
class ProductOrder:
    name: Ordering | None = strawberry.UNSET
    price: Ordering | None = strawberry.field(
        default=strawberry.UNSET, description="By the lowest variant price."
    )
    created_at: Ordering | None = strawberry.UNSET
    rating: Ordering | None = strawberry.field(
        default=strawberry.UNSET, description="By average rating; unrated products last."
    )
    relevance: Ordering | None = strawberry.field(
        default=strawberry.UNSET, description="By search rank; only meaningful with `search`."
    )


def product_filters(value: ProductFilter | None) -> ProductFilters:
    if value is None:
        return ProductFilters()
    category_ids = None
    if value.categories is not None:
        category_ids = [decode_id(global_id, "Category") for global_id in value.categories]
    return ProductFilters(
        search=value.search,
        category_ids=category_ids,
        price_gte=value.price.gte if value.price else None,
        price_lte=value.price.lte if value.price else None,
        in_stock=value.in_stock,
        min_rating=value.min_rating,
        attributes=tuple((a.name, tuple(a.values)) for a in value.attributes or ()),
        is_published=value.is_published,
        all_of=tuple(product_filters(f) for f in value.AND or ()),
        any_of=tuple(product_filters(f) for f in value.OR or ()),
        none_of=product_filters(value.NOT) if value.NOT is not None else None,
    )


def product_ordering(value: list[ProductOrder] | None) -> list[tuple[str, bool]]:
    """[(sort field, descending)] from the one-of inputs."""
    result = []
    for order in value or ():
        for name in ("name", "price", "created_at", "rating", "relevance"):
            direction = getattr(order, name)
            if direction is not strawberry.UNSET and direction is not None:
                result.append((name, direction.name.startswith("DESC")))
    return result


def decode_id(value: str, type_name: str) -> int:
    pk = pk_from_global_id(value, type_name)
    if pk is None:
        raise bad_user_input(f"This is not a {type_name} ID.")
    return pk
