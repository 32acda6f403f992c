"""Product writes. A product is created with its variants and their starting
stock in one transaction: completely or not at all."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils import timezone

from apps.catalog.models import Category, Product
from apps.catalog.search import refresh_search_vector
from apps.catalog.services.changes import Part, product_changed, product_created
from apps.catalog.services.sort_keys import refresh_sort_keys
from apps.catalog.services.checks import (
    catalog_write,
    ensure_not_deleted,
    sanitize_description,
)
from apps.catalog.services.lifecycle import product_transition, record_moves
from apps.catalog.services.variants import clean_variant, variant_insert
from apps.catalog.transitions import Move
from apps.core.errors import ErrorCode, ServiceError
from apps.core.validation import (
    Problems,
    chosen_slug,
    clean_attributes,
    clean_text,
    max_length,
    reject_unknown,
    unique_slug,
)

PRODUCT_FIELDS = {"name", "slug", "description", "category", "is_published", "seo_title",
                  "seo_description", "attributes"}
_TEXT_FIELDS = ("seo_title", "seo_description")


def product_create(
    *, actor, name: str, slug: str | None = None, description: str = "",
    category: Category | None = None, is_published: bool = False, seo_title: str = "",
    seo_description: str = "", attributes: Any = None, variants: Iterable[Mapping] = (),
) -> Product:
    """A product with its variants, each with its starting stock in the
    default warehouse (a movement of kind INITIAL). A slug left out is made
    from the name."""
    problems = Problems()
    name = clean_text(problems, "name", name, limit=max_length(Product, "name"), required=True)
    slug = (chosen_slug(problems, Product, slug) if slug
            else unique_slug(Product, name, "product"))
    fields = {
        "name": name,
        "slug": slug,
        "description": sanitize_description(description),
        "category": category,
        "is_published": bool(is_published),
        "seo_title": clean_text(problems, "seo_title", seo_title,
                                limit=max_length(Product, "seo_title")),
        "seo_description": clean_text(problems, "seo_description", seo_description,
                                      limit=max_length(Product, "seo_description")),
        "attributes": clean_attributes(problems, attributes),
    }
    cleaned_variants = []
    seen_skus: set[str] = set()
    for index, data in enumerate(variants):
        clean = clean_variant(problems, data, prefix=f"variants.{index}.")
        if clean["sku"] in seen_skus:
            problems.add(f"variants.{index}.sku", f"The SKU {clean['sku']!r} is given twice.",
                         ErrorCode.UNIQUE)
        seen_skus.add(clean["sku"])
        cleaned_variants.append(clean)
    problems.raise_any()
    with catalog_write():
        product = Product(**fields)
        if product.is_published:
            product.published_at = timezone.now()
        product.save()
        if product.published_at is not None:  # stamped above exactly when published
            record_moves(actor=actor, move=Move.PUBLISH, product_ids=[product.pk],
                         at=product.published_at)
        for sort_order, clean in enumerate(cleaned_variants):
            variant_insert(actor=actor, product=product, clean=clean, sort_order=sort_order)
        refresh_search_vector(product_ids=[product.pk])
        product_created(actor=actor, product_id=product.pk)
        refresh_sort_keys(product_ids=[product.pk])
    return product


def _publish_or_unpublish(*, actor, product: Product, publish: bool) -> None:
    """Make the move unless the product is already there. Decided by the
    database, not by the instance: a Django admin form has already set
    is_published on it before the service runs."""
    move = Move.PUBLISH if publish else Move.UNPUBLISH
    try:
        product_transition(actor=actor, product=product, move=move)
    except ServiceError as error:
        if [item.code for item in error.errors] != [ErrorCode.INVALID_TRANSITION]:
            raise


def product_update(*, actor, product: Product, **fields: Any) -> Product:
    """Change any of a product's own fields (not its variants). A change of
    is_published is the move product_publish or product_unpublish makes; the
    state columns are written by those moves only, and tell of themselves
    (ProductPublished...); the other fields publish ProductChanged."""
    reject_unknown(fields, PRODUCT_FIELDS)
    ensure_not_deleted(product)
    problems = Problems()
    if "name" in fields:
        product.name = clean_text(problems, "name", fields["name"],
                                  limit=max_length(Product, "name"), required=True)
    if "slug" in fields:
        product.slug = chosen_slug(problems, Product, fields["slug"], exclude_pk=product.pk)
    if "description" in fields:
        product.description = sanitize_description(fields["description"])
    if "category" in fields:
        product.category = fields["category"]
    publish = fields.pop("is_published", None)
    for field in _TEXT_FIELDS:
        if field in fields:
            setattr(product, field, clean_text(problems, field, fields[field],
                                               limit=max_length(Product, field)))
    if "attributes" in fields:
        product.attributes = clean_attributes(problems, fields["attributes"])
    problems.raise_any()
    with catalog_write():
        product.save(update_fields=[*fields, "updated_at"])
        if publish is not None:
            _publish_or_unpublish(actor=actor, product=product, publish=bool(publish))
        refresh_search_vector(product_ids=[product.pk])
        if fields:
            product_changed(actor=actor, product_id=product.pk, part=Part.PRODUCT)
    return product
