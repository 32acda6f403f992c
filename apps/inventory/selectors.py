"""Stock reads. "Available" is always on hand minus allocated, summed over
warehouses: what can still be promised to a new order."""

from collections.abc import Iterable

from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from apps.catalog.models import ProductVariant
from apps.inventory.models import Stock


def available_sum(prefix: str = "") -> Coalesce:
    """Sum of available stock over the rows reached through `prefix`
    (e.g. "stocks__" from a variant); 0 when there are none."""
    return Coalesce(
        Sum(F(f"{prefix}quantity") - F(f"{prefix}quantity_allocated")),
        Value(0),
        output_field=IntegerField(),
    )


def quantity_available_by_variant(*, variant_ids: Iterable[int]) -> dict[int, int]:
    """One query for many variants; a variant without stock rows has 0."""
    ids = list(variant_ids)
    rows = (
        Stock.objects.filter(variant_id__in=ids)
        .order_by()
        .values("variant_id")
        .annotate(available=available_sum())
        .values_list("variant_id", "available")
    )
    found = dict(rows)
    return {variant_id: max(found.get(variant_id, 0), 0) for variant_id in ids}


def variant_quantity_available(*, variant_id: int) -> int:
    return quantity_available_by_variant(variant_ids=[variant_id])[variant_id]


def in_stock_condition(*, product_ref: str = "pk") -> Exists:
    """A filter for products (or, with product_ref, anything pointing at a
    product) that have at least one unit available somewhere."""
    return Exists(
        Stock.objects.filter(
            variant__product_id=OuterRef(product_ref), quantity__gt=F("quantity_allocated")
        )
    )


def low_stock_variants() -> QuerySet[ProductVariant]:
    """Variants of live products whose available quantity is at or below
    their own threshold, the emptiest first."""
    return (
        ProductVariant.objects.filter(product__deleted_at__isnull=True)
        .annotate(quantity_available=available_sum("stocks__"))
        .filter(Q(quantity_available__lte=F("low_stock_threshold")))
        .order_by("quantity_available", "sku", "id")
    )
