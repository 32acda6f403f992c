"""Cart reads: who reaches a cart, and the variants a cart may take.

A cart's token is its key: a guest's cart is anyone's who holds the token
(the storefront keeps it), a customer's cart only its customer's, whoever
else holds the token. Another customer's cart reads exactly as one that
does not exist: null in a query, NOT_FOUND in a mutation.
"""

import uuid
from typing import Any

from django.db.models import QuerySet

from apps.catalog.models import ProductVariant
from apps.catalog.selectors import variants_visible_to
from apps.checkout.models import Cart, CartLine, CartState


def signed_in(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def carts_visible_to(*, user: Any, queryset: QuerySet[Cart] | None = None) -> QuerySet[Cart]:
    """Carts found by ID (`node`): a customer's own. A guest's cart has no
    owner to check an ID against, so it is reached only by its token."""
    queryset = Cart.objects.all() if queryset is None else queryset
    return queryset.filter(user=user) if signed_in(user) else queryset.none()


def cart_lines_visible_to(
    *, user: Any, queryset: QuerySet[CartLine] | None = None
) -> QuerySet[CartLine]:
    """The lines of the carts `carts_visible_to` lets the caller find by ID."""
    queryset = CartLine.objects.all() if queryset is None else queryset
    return queryset.filter(cart__in=carts_visible_to(user=user))


def _with_relations(queryset: QuerySet[Cart]) -> QuerySet[Cart]:
    # What pricing reads of the cart itself, joined.
    return queryset.select_related("user", "coupon", "shipping_method")


def cart_by_token(*, user: Any, token: uuid.UUID | str | None) -> Cart | None:
    """The cart with this token, in any state, if the caller may reach it: a
    guest's cart for anyone, a customer's only for that customer."""
    try:
        key = token if isinstance(token, uuid.UUID) else uuid.UUID(str(token))
    except ValueError:
        return None
    cart = _with_relations(Cart.objects.filter(token=key)).first()
    if cart is None or (cart.user_id is not None and not (
            signed_in(user) and cart.user_id == user.pk)):
        return None
    return cart


def active_cart_of(*, user: Any) -> Cart | None:
    """The customer's active cart (`me.cart`; at most one, a constraint)."""
    if not signed_in(user):
        return None
    return _with_relations(Cart.objects.filter(user=user, state=CartState.ACTIVE)).first()


def variants_on_sale() -> QuerySet[ProductVariant]:
    """What a cart can take: variants of products on sale (published and not
    deleted), whoever asks. A catalog manager previewing an unpublished
    product sees it, but cannot buy it: it is not for sale yet."""
    return variants_visible_to(user=None)
