"""Who sees which products, variants and reviews: the one rule every read goes
through (staff who manage the catalog also see unpublished products; nobody
sees deleted ones)."""


from django.db.models import (
    Q,
    QuerySet,
)

from apps.accounts.permissions import Perm, staff_has_perm
from apps.catalog.models import Product, ProductVariant, Review


def may_see_unpublished(user) -> bool:
    """Catalog managers preview unpublished products; nobody sees deleted ones."""
    return staff_has_perm(user, Perm.MANAGE_PRODUCTS)


def _visible(user, prefix: str = "") -> Q:
    condition = Q(**{f"{prefix}deleted_at__isnull": True})
    if not may_see_unpublished(user):
        condition &= Q(**{f"{prefix}is_published": True})
    return condition


def products_visible_to(*, user, queryset: QuerySet[Product] | None = None) -> QuerySet[Product]:
    """The one visibility rule for products, wherever they are read (lists,
    detail, node look-ups): published and not deleted, or for catalog
    managers not deleted."""
    queryset = Product.objects.all() if queryset is None else queryset
    return queryset.filter(_visible(user))


def variants_visible_to(
    *, user, queryset: QuerySet[ProductVariant] | None = None
) -> QuerySet[ProductVariant]:
    """Variants of the products `user` may see: the same rule, one join away."""
    queryset = ProductVariant.objects.all() if queryset is None else queryset
    return queryset.filter(_visible(user, "product__"))


def reviews_visible_to(*, user, queryset: QuerySet[Review] | None = None) -> QuerySet[Review]:
    """Shown reviews of visible products; catalog managers also see hidden ones."""
    queryset = Review.objects.all() if queryset is None else queryset
    queryset = queryset.filter(_visible(user, "product__"))
    return queryset if may_see_unpublished(user) else queryset.filter(is_hidden=False)
