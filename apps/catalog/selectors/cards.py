"""What a product card shows (price range, cover image, rating) as annotations, so
a listing of any size is one query."""

from collections.abc import Iterable

from django.db.models import (
    Avg,
    Count,
    Max,
    Min,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
)

from apps.catalog.models import Product, ProductMedia, ProductVariant, Review
from apps.core.correlated import CorrelatedSubquery
from apps.catalog.selectors.stock import available_variant_expression


def _per_product(queryset: QuerySet, aggregate) -> Subquery:
    """A correlated subquery: `aggregate` over the rows of the outer product."""
    return Subquery(
        queryset.filter(product_id=OuterRef("pk"))
        .order_by()
        .values("product_id")
        .annotate(value=aggregate)
        .values("value")[:1]
    )


def min_price_expression() -> Subquery:
    return _per_product(ProductVariant.objects.all(), Min("price"))


def max_price_expression() -> Subquery:
    return _per_product(ProductVariant.objects.all(), Max("price"))


def published_reviews() -> QuerySet[Review]:
    return Review.objects.filter(is_hidden=False)


def average_rating_expression() -> Subquery:
    return _per_product(published_reviews(), Avg("rating"))


def review_count_expression() -> Subquery:
    return _per_product(published_reviews(), Count("id"))


def review_stars_expression() -> Subquery:
    """The sum of the visible reviews' stars; with the count, the average."""
    return _per_product(published_reviews(), Sum("rating"))


def first_media_expression(field: str) -> Subquery:
    """A column of the product's cover: its first image by sort order."""
    return Subquery(
        ProductMedia.objects.filter(product_id=OuterRef("pk"))
        .order_by("sort_order", "id")
        .values(field)[:1]
    )


# What a product card shows, as annotations, by the name each gets: each a
# subquery on the outer product, compiled once (apps/core/correlated.py).
# The GraphQL Product type asks the optimizer for the ones a query selects.
LISTING_SUBQUERIES = {
    # The cover (first image): the file, its small rendition, its alt text.
    "cover_image": lambda: first_media_expression("image"),
    "cover_thumbnail": lambda: first_media_expression("thumbnail"),
    "cover_alt": lambda: first_media_expression("alt"),
    "lowest_price": min_price_expression,
    "highest_price": max_price_expression,
    "in_stock": available_variant_expression,
    "review_count": review_count_expression,
    "review_stars": review_stars_expression,
}
LISTING_ANNOTATIONS = {
    name: (lambda build=build: CorrelatedSubquery(build))
    for name, build in LISTING_SUBQUERIES.items()
}


def product_listing_values(*, product_ids: Iterable[int]) -> dict[int, dict]:
    """The card values of products that did not come from a listing (a
    mutation's answer, a cart line's product), in one query."""
    rows = (
        Product.objects.filter(pk__in=list(product_ids))
        .order_by()
        .annotate(**{name: build() for name, build in LISTING_ANNOTATIONS.items()})
        .values("pk", *LISTING_ANNOTATIONS)
    )
    return {row.pop("pk"): row for row in rows}


def average_stars(*, total: int | None, count: int | None) -> float | None:
    """Mean stars to 2 places, or None without reviews: one rule for every
    place that shows a rating."""
    return round(total / count, 2) if count and total is not None else None
