"""Catalog writes: categories, products, variants and their images, one module
per aggregate. Callers use the package (`services.product_create`).

Every service checks its whole input before writing anything and reports all
it found at once. Writes spanning rows are one transaction.
"""

from apps.catalog.services.categories import (
    category_create,
    category_delete,
    category_holds_products,
    category_update,
)
from apps.catalog.services.changes import changes_told_once
from apps.catalog.services.checks import sanitize_description
from apps.catalog.services.import_jobs import import_job_create, import_job_run
from apps.catalog.services.lifecycle import (
    product_delete,
    product_publish,
    product_restore,
    product_transition,
    product_unpublish,
    products_bulk_delete,
)
from apps.catalog.services.media import media_create, media_delete, media_update
from apps.catalog.services.products import product_create, product_update
from apps.catalog.services.sort_keys import refresh_sort_keys
from apps.catalog.services.variants import variant_create, variant_update

__all__ = [
    "category_create",
    "category_delete",
    "category_holds_products",
    "category_update",
    "changes_told_once",
    "import_job_create",
    "import_job_run",
    "media_create",
    "media_delete",
    "media_update",
    "product_create",
    "product_delete",
    "product_publish",
    "product_restore",
    "product_transition",
    "product_unpublish",
    "refresh_sort_keys",
    "product_update",
    "products_bulk_delete",
    "sanitize_description",
    "variant_create",
    "variant_update",
]
