"""Finding a cart to change.

Every change of a cart starts with `cart_for_change`, inside the change's
transaction: it finds the cart as the caller may reach it and locks its row,
so that changes to one cart take turns, and refuses a cart that is closed.
"""

import uuid
from typing import Any

from apps.accounts.models import User
from apps.checkout.models import Cart, CartState
from apps.checkout.selectors import cart_by_token
from apps.core.errors import NotFound, ServiceError

# A cart's token as the client sent it (None or junk finds no cart).
Token = uuid.UUID | str | None

CHECKED_OUT = "This cart has been checked out."
CLOSED = "This cart was merged into another one and takes no more changes."


def refuse_closed(cart: Cart) -> None:
    """A cart that is no longer active takes no change."""
    if cart.state == CartState.COMPLETED:
        raise ServiceError(CHECKED_OUT, field="token")
    if cart.state != CartState.ACTIVE:
        raise ServiceError(CLOSED, field="token")


def cart_locked(*, user: Any, token: Token) -> Cart:
    """The cart with this token as the caller may reach it, its row locked
    until the transaction ends; NOT_FOUND when there is none for them."""
    found = cart_by_token(user=user, token=token)
    if found is None:
        raise NotFound("No cart with this token.", field="token")
    locked = (Cart.objects.select_for_update(of=("self",))
              .select_related("user", "coupon", "shipping_method").filter(pk=found.pk).first())
    if locked is None:  # deleted meanwhile: a stale guest cart cleaned up (cleanup.py)
        raise NotFound("No cart with this token.", field="token")
    return locked


def cart_for_change(*, user: Any, token: Token) -> Cart:
    """`cart_locked`, refusing a cart that is checked out or closed. Call it
    inside the change's transaction."""
    cart = cart_locked(user=user, token=token)
    refuse_closed(cart)
    return cart


def touch(cart: Cart) -> None:
    """A change of its lines is a change of the cart (`updated_at`)."""
    cart.save(update_fields=["updated_at"])


def lock_customer(user: Any) -> None:
    """Writes that decide a customer's one active cart (create, merge) take
    turns on the customer's row, so two at once cannot both make one."""
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk").first()
