"""Catalog reads, one module per topic: visibility, product cards, the product
list, reviews and the category tree. Callers use the package
(`selectors.product_list`); the batched look-ups behind the GraphQL
dataloaders take many ids and answer a dict.
"""

from apps.catalog.selectors.attributes import product_attributes
from apps.catalog.selectors.cards import (
    LISTING_ANNOTATIONS,
    average_rating_expression,
    average_stars,
    first_media_expression,
    max_price_expression,
    min_price_expression,
    product_listing_values,
    review_count_expression,
    review_stars_expression,
)
from apps.catalog.selectors.categories import (
    categories_by_path,
    category_ancestors,
    category_children,
    category_product_counts,
)
from apps.catalog.selectors.import_jobs import import_job_rows_done, import_jobs_visible_to
from apps.catalog.selectors.listing import (
    SORT_FIELDS,
    ProductFilters,
    product_list,
    products_in_category,
)
from apps.catalog.selectors.reviews import (
    NO_RATING,
    RatingSummary,
    product_ratings,
    review_author_name,
    visible_reviews,
)
from apps.catalog.selectors.stock import in_stock_condition, low_stock_variants, variants_by_id
from apps.catalog.selectors.visibility import (
    may_see_unpublished,
    products_visible_to,
    reviews_visible_to,
    variants_visible_to,
)

__all__ = [
    "LISTING_ANNOTATIONS",
    "NO_RATING",
    "ProductFilters",
    "RatingSummary",
    "SORT_FIELDS",
    "average_rating_expression",
    "average_stars",
    "categories_by_path",
    "category_ancestors",
    "category_children",
    "category_product_counts",
    "first_media_expression",
    "import_job_rows_done",
    "import_jobs_visible_to",
    "in_stock_condition",
    "low_stock_variants",
    "max_price_expression",
    "may_see_unpublished",
    "min_price_expression",
    "product_attributes",
    "product_list",
    "product_listing_values",
    "product_ratings",
    "products_in_category",
    "products_visible_to",
    "review_author_name",
    "review_count_expression",
    "review_stars_expression",
    "reviews_visible_to",
    "variants_by_id",
    "variants_visible_to",
    "visible_reviews",
]
