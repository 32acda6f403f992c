"""Products to CSV, one row per variant, in the columns of apps.catalog.csv_io.format."""

import csv
import json
from typing import TextIO

from django.db.models import OuterRef, Subquery
from tqdm import tqdm

from apps.catalog.csv_io.format import COLUMNS
from apps.catalog.models import ProductVariant
from apps.inventory.models import Stock
from apps.inventory.services import default_warehouse


def export_products(*, file: TextIO, progress: bool = False) -> int:
    """Write every live product's variants to `file`; returns the number of
    rows. Products without variants have no row."""
    on_hand = Stock.objects.filter(variant=OuterRef("pk"), warehouse=default_warehouse())
    variants = (
        ProductVariant.objects.filter(product__deleted_at__isnull=True)
        .select_related("product__category")
        .annotate(quantity_on_hand=Subquery(on_hand.values("quantity_on_hand")[:1]))
        .order_by("product__slug", "sort_order", "id")
    )
    writer = csv.writer(file)
    writer.writerow(COLUMNS)
    count = 0
    for variant in tqdm(variants.iterator(chunk_size=2000), total=variants.count(),
                        unit="row", disable=not progress):
        product = variant.product
        writer.writerow([
            product.slug,
            product.name,
            product.category.slug if product.category else "",
            product.description,
            "true" if product.is_published else "false",
            json.dumps(product.attributes, ensure_ascii=False),
            variant.sku,
            variant.name,
            json.dumps(variant.options, ensure_ascii=False),
            variant.price_money.amount,
            "" if variant.compare_at_price is None else variant.compare_at_price_money.amount,
            variant.quantity_on_hand or 0,
            variant.low_stock_threshold,
        ])
        count += 1
    return count
