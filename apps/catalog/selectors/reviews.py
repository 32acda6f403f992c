"""Ratings and reviews, batched for many products at once."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import (
    Count,
    QuerySet,
)

from apps.catalog.models import Product, Review
from apps.catalog.selectors.cards import average_stars


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: float | None
    # stars (1..5) -> number of visible reviews
    distribution: dict[int, int]


NO_RATING = RatingSummary(count=0, average=None, distribution={s: 0 for s in range(1, 6)})


def product_ratings(*, product_ids: Iterable[int]) -> dict[int, RatingSummary]:
    """Average, count and per-star counts of visible reviews, in one query."""
    rows = (
        Review.objects.filter(product_id__in=list(product_ids), is_hidden=False)
        .order_by()
        .values_list("product_id", "rating")
        .annotate(n=Count("id"))
    )
    by_product: dict[int, dict[int, int]] = defaultdict(lambda: {s: 0 for s in range(1, 6)})
    for product_id, stars, n in rows:
        by_product[product_id][stars] = n
    result = {}
    for product_id, distribution in by_product.items():
        count = sum(distribution.values())
        total = sum(stars * n for stars, n in distribution.items())
        result[product_id] = RatingSummary(
            count=count,
            average=average_stars(total=total, count=count),
            distribution=distribution,
        )
    return result


def visible_reviews(*, product: Product) -> QuerySet[Review]:
    """Reviews the shop shows (staff can hide one), newest first."""
    return (
        Review.objects.filter(product=product, is_hidden=False)
        .select_related("user")
        .order_by("-created_at", "-id")
    )


FORMER_CUSTOMER = "A former customer"


def review_author_name(*, review: Review) -> str:
    """How a review is signed: first name and last initial ("Ada L."), enough
    to feel personal and not enough to find someone. Never the email. An
    author who deleted their account is "A former customer"."""
    if review.user is None:
        return FORMER_CUSTOMER
    first, last = review.user.first_name.strip(), review.user.last_name.strip()
    if first and last:
        return f"{first} {last[0].upper()}."
    return first or (f"{last[0].upper()}." if last else "A customer")
