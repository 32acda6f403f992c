"""Dataloaders of the catalog: each turns the per-object questions of a
listing (price range, rating, cover image, stock, category tree) into one query
per request. Get them with `info.context.loader(factory)`."""

from apps.catalog import selectors
from apps.inventory import selectors as inventory_selectors
from schema.dataloaders import batched


# Keyed by product id.
product_listing = batched(lambda ids: selectors.product_listing_values(product_ids=ids))
product_rating = batched(
    lambda ids: selectors.product_ratings(product_ids=ids), missing=selectors.NO_RATING
)

# Keyed by variant id.
variant_quantity_available = batched(
    lambda ids: inventory_selectors.quantity_available_by_variant(variant_ids=ids), missing=0
)

# Keyed by category path (treebeard's materialised path).
category_by_path = batched(lambda paths: selectors.categories_by_path(paths=paths))
category_children = batched(
    lambda paths: selectors.category_children(paths=paths), missing=()
)
category_ancestors = batched(
    lambda paths: selectors.category_ancestors(paths=paths), missing=()
)
category_product_count = batched(
    lambda paths: selectors.category_product_counts(paths=paths), missing=0
)
