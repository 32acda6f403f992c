"""Wishlist writes. Both are harmless to repeat: adding a product already on
the list keeps it where it was, removing one that is not there changes
nothing, so a client that retries (or a double click) never sees an error."""

from django.db import transaction

from apps.accounts.models import User
from apps.catalog.selectors import products_visible_to
from apps.core.errors import NotFound, ServiceError

from .models import WishlistItem

# The list has no pages (the storefront shows it whole), so it is bounded.
MAX_ITEMS = 100


@transaction.atomic
def wishlist_add(*, user: User, product_id: int | None) -> WishlistItem:
    """A product the customer cannot see (unknown, unpublished, deleted) is
    NOT_FOUND, exactly as one that does not exist."""
    product = products_visible_to(user=user).filter(pk=product_id).first() if product_id else None
    if product is None:
        raise NotFound("No product with this ID.", field="product_id")
    # Adds by one customer take turns, so two at once cannot pass the limit.
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk").first()
    item = WishlistItem.objects.filter(user=user, product=product).first()
    if item is not None:
        return item
    if WishlistItem.objects.filter(user=user).count() >= MAX_ITEMS:
        raise ServiceError(
            f"A wishlist holds at most {MAX_ITEMS} products; remove one first.",
            field="product_id",
        )
    item, _ = WishlistItem.objects.get_or_create(user=user, product=product)
    return item


def wishlist_remove(*, user: User, product_id: int) -> None:
    """Whatever the product's state: a customer may clear out a product that
    has since been unpublished (it no longer shows, but it is theirs)."""
    WishlistItem.objects.filter(user=user, product_id=product_id).delete()
