"""The wishlist's type. The list hangs off `User.wishlist` (schema/accounts);
its products are catalog Products, whose card fields come as annotations or,
when the optimizer does not add them, from one batched load for the page."""

from datetime import datetime

import strawberry_django

from apps.catalog import models as catalog_models
from apps.wishlist import models, selectors
from schema.catalog.types import Product
from schema.permissions import visible_through


@strawberry_django.type(models.WishlistItem, name="WishlistItem")
class WishlistItem:
    added_at: datetime
    # Joined, not filtered through Product.get_queryset: the item's own
    # get_queryset has already kept only items whose product the caller sees.
    product: catalog_models.Product = strawberry_django.field(graphql_type=Product)

    get_queryset = visible_through(selectors.wishlist_items_visible_to)
