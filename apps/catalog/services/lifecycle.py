"""A product's life: soft delete and restore. The row stays for the orders that
name it; a deleted product is hidden everywhere and refuses edits."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from apps.catalog.models import Product
from apps.catalog.search import refresh_search_vector
from apps.catalog.services.checks import ensure_not_deleted
from apps.core.errors import NotFound


def product_delete(*, actor, product: Product) -> None:
    """Soft delete: the product leaves the storefront and the admin lists, but
    its row stays for the orders that name it."""
    ensure_not_deleted(product)
    product.deleted_at = timezone.now()
    product.save(update_fields=["deleted_at", "updated_at"])


def products_bulk_delete(*, actor, products: Iterable[Product]) -> int:
    """Soft-delete many at once; returns how many were live until now."""
    ids = [product.pk for product in products]
    now = timezone.now()
    return Product.objects.live().filter(pk__in=ids).update(deleted_at=now, updated_at=now)


def product_restore(*, actor, product: Product) -> Product:
    """Undo a soft delete. Nothing can have taken the product's slug or SKUs
    meanwhile (a deleted product keeps them), so it comes back as it was.

    A product that is not deleted is NOT_FOUND, as deleting a deleted one is:
    there is no deleted product to restore. The check and the write are one
    conditional UPDATE, so a concurrent restore or delete cannot slip between
    them. The search document is rebuilt in case it went stale while the
    product was hidden; it is cheap insurance.
    """
    now = timezone.now()
    with transaction.atomic():
        restored = Product.objects.filter(pk=product.pk, deleted_at__isnull=False).update(
            deleted_at=None, updated_at=now)
        if not restored:
            raise NotFound("This product is not deleted.")
        refresh_search_vector(product_ids=[product.pk])
    product.deleted_at, product.updated_at = None, now
    return product
