"""Wishlist reads: whose items a caller sees, and which of them still show."""

from typing import Any

from django.db.models import QuerySet

from apps.accounts.permissions import Perm, staff_has_perm
from apps.catalog.selectors import products_visible_to

from .models import WishlistItem


def wishlist_items_visible_to(
    *, user: Any, queryset: QuerySet[WishlistItem] | None = None
) -> QuerySet[WishlistItem]:
    """One's own items (staff managing customers see everyone's), and only
    those whose product the caller may see: a product unpublished or deleted
    after it was added drops out of the list, and comes back if restored."""
    queryset = WishlistItem.objects.all() if queryset is None else queryset
    if user is None or not user.is_authenticated:
        return queryset.none()
    if not staff_has_perm(user, Perm.MANAGE_CUSTOMERS):
        queryset = queryset.filter(user=user)
    return queryset.filter(product__in=products_visible_to(user=user))


def wishlist_of(*, user: Any) -> QuerySet[WishlistItem]:
    """The customer's own list as they see it, newest first, with its products."""
    return wishlist_items_visible_to(
        user=user, queryset=WishlistItem.objects.filter(user=user).select_related("product")
    )
