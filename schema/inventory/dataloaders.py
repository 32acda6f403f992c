"""Dataloaders of the inventory types; get them with `info.context.loader(factory)`."""

from apps.catalog import selectors
from schema.dataloaders import batched

# Keyed by variant id; any variant, not only the visible ones (see the selector).
variant_by_id = batched(lambda ids: selectors.variants_by_id(variant_ids=ids))
