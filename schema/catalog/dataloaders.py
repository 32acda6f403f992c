"""Dataloaders of the catalog: each turns the per-object questions of a
listing (price range, rating, thumbnail, stock, category tree) into one query
per request. Get them with `info.context.loader(factory)`."""

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from asgiref.sync import sync_to_async
from strawberry.dataloader import DataLoader

from apps.catalog import selectors
from apps.inventory import selectors as inventory_selectors


def batched(fetch: Callable[[list], dict], *, missing: Any = None):
    """A loader factory over `fetch(keys) -> {key: value}`; keys it leaves out
    get `missing` (shared, so it must never be mutated)."""

    def factory(context) -> DataLoader:
        async def load(keys: Iterable[Hashable]) -> list:
            keys = list(keys)
            found = await sync_to_async(fetch)(keys)
            return [found.get(key, missing) for key in keys]

        return DataLoader(load_fn=load)

    return factory


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
