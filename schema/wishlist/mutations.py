"""Wishlist mutations: thin resolvers over apps.wishlist.services. Each answers
the customer's whole list as it now is."""

import strawberry
from strawberry import Info

from apps.core.errors import NotFound
from apps.wishlist import models, selectors, services
from schema.cost import list_size
from schema.errors import Payload, payload_mutation
from schema.ids import pk_from_global_id
from schema.permissions import SignedIn, signed_in_user

from .types import WishlistItem


@strawberry.type
class WishlistAnswer(Payload):
    """What both wishlist mutations answer."""

    wishlist: list[models.WishlistItem] | None = strawberry.field(
        default=None, graphql_type=list[WishlistItem] | None,
        description="The customer's wishlist after the change, newest first.",
        directives=list_size(services.MAX_ITEMS),
    )


@strawberry.type
class WishlistAddPayload(WishlistAnswer):
    pass


@strawberry.type
class WishlistRemovePayload(WishlistAnswer):
    pass


def _wishlist(user: object) -> list[models.WishlistItem]:
    return list(selectors.wishlist_of(user=user))


@strawberry.type
class WishlistMutation:
    @payload_mutation(
        extensions=[SignedIn()],
        description="Adding a product already on the list changes nothing and is no "
        "error; a product the customer cannot see is NOT_FOUND.",
    )
    def wishlist_add(self, info: Info, product_id: strawberry.ID) -> WishlistAddPayload:
        user = signed_in_user(info)
        services.wishlist_add(user=user, product_id=pk_from_global_id(product_id, "Product"))
        return WishlistAddPayload(wishlist=_wishlist(user))

    @payload_mutation(
        extensions=[SignedIn()],
        description="Removing a product that is not on the list changes nothing and is "
        "no error; an ID that names no product at all is NOT_FOUND.",
    )
    def wishlist_remove(self, info: Info, product_id: strawberry.ID) -> WishlistRemovePayload:
        user = signed_in_user(info)
        pk = pk_from_global_id(product_id, "Product")
        if pk is None:
            raise NotFound("No product with this ID.", field="product_id")
        services.wishlist_remove(user=user, product_id=pk)
        return WishlistRemovePayload(wishlist=_wishlist(user))
