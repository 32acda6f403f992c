"""Making a cart, and its email."""

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction

from apps.checkout.models import Cart
from apps.checkout.selectors import active_cart_of, signed_in
from apps.core.errors import ServiceError
from apps.core.validation import Problems, clean_email, max_length

from .access import Token, cart_for_change, cart_locked, lock_customer
from .lines import LineWanted, lines_add


def _clean_cart_email(email: str | None, *, required: bool) -> str:
    problems = Problems()
    cleaned = clean_email(problems, "email", email, limit=max_length(Cart, "email"),
                          required=required)
    problems.raise_any()
    return cleaned


@transaction.atomic
def cart_create(*, user: Any, email: str | None = None,
                lines: Sequence[LineWanted] = ()) -> Cart:
    """A new cart with these lines. A signed-in customer's cart is theirs
    (its email theirs unless another is given); a customer has one active
    cart, so one who already has one gets it back with the lines added."""
    cleaned = _clean_cart_email(email, required=False)
    if not signed_in(user):
        cart = Cart.objects.create(email=cleaned)
    else:
        lock_customer(user)
        existing = active_cart_of(user=user)
        if existing is not None:
            cart = cart_locked(user=user, token=existing.token)
            if cleaned:
                cart.email = cleaned
                cart.save(update_fields=["email", "updated_at"])
        else:
            try:
                with transaction.atomic():
                    cart = Cart.objects.create(user=user, email=cleaned or user.email)
            except IntegrityError:  # made by a write that did not lock (the admin)
                raise ServiceError("You already have a cart.", field="token") from None
    lines_add(cart, lines)
    return cart


@transaction.atomic
def cart_email_update(*, user: Any, token: Token, email: str | None) -> Cart:
    """Where the order confirmation goes."""
    cart = cart_for_change(user=user, token=token)
    cart.email = _clean_cart_email(email, required=True)
    cart.save(update_fields=["email", "updated_at"])
    return cart
