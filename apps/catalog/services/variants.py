"""Variant writes. Stock is not a variant field: it changes only through
inventory's services, each change a logged movement."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Max

from apps.catalog.models import Product, ProductVariant
from apps.catalog.search import refresh_search_vector
from apps.catalog.services.changes import Part, product_changed
from apps.catalog.services.sort_keys import refresh_sort_keys
from apps.catalog.services.checks import catalog_write, ensure_not_deleted
from apps.core import events
from apps.core.errors import ErrorCode
from apps.core.validation import (
    Problems,
    clean_count,
    clean_options,
    clean_price,
    clean_text,
    decimal_limits,
    max_length,
    max_value,
    reject_unknown,
)
from apps.inventory.models import Stock
from apps.inventory.services import stock_set_initial

VARIANT_FIELDS = {"sku", "name", "price", "compare_at_price", "low_stock_threshold",
                  "options", "weight_grams"}


def clean_variant(problems: Problems, data: Mapping[str, Any], *, prefix: str = "",
                   instance: ProductVariant | None = None) -> dict[str, Any]:
    """The cleaned fields of a variant to create (instance None) or update
    (only the fields given). SKU uniqueness against the database is checked
    here; within one input by the caller."""
    creating = instance is None
    clean: dict[str, Any] = {}
    if creating or "sku" in data:
        sku = clean_text(problems, f"{prefix}sku", data.get("sku"),
                         limit=max_length(ProductVariant, "sku"), required=True)
        taken = ProductVariant.objects.filter(sku=sku)
        if instance is not None:
            taken = taken.exclude(pk=instance.pk)
        if sku and taken.exists():
            problems.add(f"{prefix}sku", f"The SKU {sku!r} is taken.", ErrorCode.UNIQUE)
        clean["sku"] = sku
    if "name" in data:
        clean["name"] = clean_text(problems, f"{prefix}name", data["name"],
                                   limit=max_length(ProductVariant, "name"))
    if creating or "price" in data:
        clean["price"] = clean_price(problems, f"{prefix}price", data.get("price"),
                                     column=decimal_limits(ProductVariant, "price"), required=True)
    if "compare_at_price" in data:
        clean["compare_at_price"] = clean_price(
            problems, f"{prefix}compare_at_price", data["compare_at_price"],
            column=decimal_limits(ProductVariant, "compare_at_price"), required=False,
        )
    if "low_stock_threshold" in data:
        threshold = clean_count(problems, f"{prefix}low_stock_threshold",
                                data["low_stock_threshold"],
                                limit=max_value(ProductVariant, "low_stock_threshold"))
        if threshold is not None:  # None keeps (or, new, takes) the default
            clean["low_stock_threshold"] = threshold
    if "options" in data:
        clean["options"] = clean_options(problems, data["options"], field=f"{prefix}options")
    if "weight_grams" in data:
        clean["weight_grams"] = clean_count(problems, f"{prefix}weight_grams", data["weight_grams"],
                                            limit=max_value(ProductVariant, "weight_grams"))
    if creating:
        clean["quantity_on_hand"] = clean_count(
            problems, f"{prefix}stock", data.get("stock"), limit=max_value(Stock, "quantity_on_hand")
        ) or 0
    return clean


def variant_insert(*, actor, product: Product, clean: dict, sort_order: int) -> ProductVariant:
    quantity_on_hand = clean.pop("quantity_on_hand")
    variant = ProductVariant.objects.create(product=product, sort_order=sort_order, **clean)
    stock_set_initial(actor=actor, variant=variant, quantity_on_hand=quantity_on_hand)
    return variant


def variant_create(
    *, actor, product: Product, sku: str, price: Decimal, name: str = "",
    compare_at_price: Decimal | None = None, stock: int = 0,
    low_stock_threshold: int | None = None, options: list | None = None,
    weight_grams: int | None = None,
) -> ProductVariant:
    """Add a variant, last in order, with its starting stock."""
    ensure_not_deleted(product)
    problems = Problems()
    clean = clean_variant(problems, {
        "sku": sku, "price": price, "name": name, "compare_at_price": compare_at_price,
        "stock": stock, "low_stock_threshold": low_stock_threshold, "options": options,
        "weight_grams": weight_grams,
    })
    problems.raise_any()
    with catalog_write():
        last = product.variants.aggregate(last=Max("sort_order"))["last"]
        variant = variant_insert(actor=actor, product=product, clean=clean,
                                  sort_order=0 if last is None else last + 1)
        refresh_search_vector(product_ids=[product.pk])
        product_changed(actor=actor, product_id=product.pk, part=Part.VARIANTS)
        refresh_sort_keys(product_ids=[product.pk])
    return variant


def variant_update(*, actor, variant: ProductVariant, **fields: Any) -> ProductVariant:
    """Change a variant's own fields. Stock is not one of them: it changes
    only through stock_adjust and orders, each change a logged movement.
    A lower price publishes VariantPriceDropped (for the wishlists)."""
    reject_unknown(fields, VARIANT_FIELDS)
    ensure_not_deleted(variant.product)
    problems = Problems()
    clean = clean_variant(problems, fields, instance=variant)
    problems.raise_any()
    for field, value in clean.items():
        setattr(variant, field, value)
    with catalog_write():
        # The price before, from the database under a lock: the admin's form
        # has already set the new one on the object.
        old_price = (ProductVariant.objects.select_for_update().filter(pk=variant.pk)
                     .values_list("price", flat=True).first()) if "price" in clean else None
        variant.save()
        refresh_search_vector(product_ids=[variant.product_id])
        if "price" in clean:
            refresh_sort_keys(product_ids=[variant.product_id])
        if old_price is not None and variant.price < old_price:
            events.publish(events.VariantPriceDropped(
                variant_id=variant.pk, old_price=str(old_price), new_price=str(variant.price)))
        product_changed(actor=actor, product_id=variant.product_id, part=Part.VARIANTS)
    return variant
