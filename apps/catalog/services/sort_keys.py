"""Keeping a product's sort keys (apps.catalog.sort_keys) on its row."""

from collections.abc import Iterable

from django.db.models import Avg, Min, OuterRef, QuerySet, Subquery

from apps.catalog.models import Product, ProductVariant, Review


def sort_key_values(products: QuerySet, variants: QuerySet, reviews: QuerySet) -> dict:
    """The columns' values as expressions over the product's own rows (one
    definition for the services and the migration that filled them)."""

    def per_product(rows: QuerySet, aggregate) -> Subquery:
        return Subquery(rows.filter(product_id=OuterRef("pk")).order_by()
                        .values("product_id").annotate(value=aggregate).values("value")[:1])

    return {
        "min_price": per_product(variants, Min("price")),
        "average_rating": per_product(reviews.filter(is_hidden=False), Avg("rating")),
    }


def refresh_sort_keys(*, product_ids: Iterable[int]) -> None:
    """Recompute the lowest price and average rating of these products, in
    one statement, after their variants' prices or their reviews changed.
    Computed by the database from the rows themselves, as the search
    document is, so a caller cannot hand in stale values."""
    ids = sorted({int(pk) for pk in product_ids})
    if ids:
        Product.objects.filter(pk__in=ids).update(
            **sort_key_values(Product.objects.all(), ProductVariant.objects.all(),
                              Review.objects.all()))
