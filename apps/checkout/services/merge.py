"""cartMerge: a guest's cart joins the customer's once they sign in."""

from typing import Any

from django.db import transaction

from apps.checkout.models import Cart, CartState
from apps.checkout.selectors import active_cart_of
from apps.core.errors import ServiceError
from apps.inventory.selectors import quantity_available_by_variant

from .access import CHECKED_OUT, CLOSED, Token, cart_locked, lock_customer, refuse_closed
from .shipping import ADDRESS_COLUMNS


def merged_quantity(*, had: int, adding: int, available: int) -> int:
    """What a line holds after a merge: the two quantities added up, capped
    at what is available, but never below what the customer's own line
    already had (that would change it behind their back). With nothing
    available there is nothing to cap to: the line keeps the sum and says
    INSUFFICIENT_STOCK, as any line whose stock ran out."""
    ceiling = max(available, had)
    return min(had + adding, ceiling) if ceiling > 0 else had + adding


def _move_lines(guest: Cart, target: Cart) -> None:
    guest_lines = list(guest.lines.all())
    theirs = {line.variant_id: line for line in target.lines.all()}
    available = quantity_available_by_variant(
        variant_ids=[line.variant_id for line in guest_lines])
    for line in guest_lines:
        mine = theirs.get(line.variant_id)
        had = mine.quantity if mine is not None else 0
        wanted = had + line.quantity
        quantity = merged_quantity(had=had, adding=line.quantity,
                                   available=available[line.variant_id])
        kept = line if mine is None else mine
        kept.cart = target
        kept.quantity = quantity
        kept.requested_quantity = wanted if quantity < wanted else None
        kept.save(update_fields=["cart", "quantity", "requested_quantity"])
        if mine is not None:
            line.delete()


def _fill_blanks(guest: Cart, target: Cart) -> None:
    """What the customer's cart lacks and the guest's has: the coupon, the
    shipping address and its method. The customer's own choices stay."""
    fields = []
    if target.coupon_id is None and guest.coupon_id is not None:
        target.coupon_id = guest.coupon_id
        fields.append("coupon")
    if not target.has_shipping_address and guest.has_shipping_address:
        for column in ADDRESS_COLUMNS:
            setattr(target, column, getattr(guest, column))
        target.shipping_method_id = guest.shipping_method_id
        fields += [*ADDRESS_COLUMNS, "shipping_method"]
    target.save(update_fields=[*fields, "updated_at"])


@transaction.atomic
def cart_merge(*, user: Any, token: Token) -> Cart:
    """Move the lines of the guest cart with `token` into the signed-in
    customer's active cart, in one transaction: quantities add up, capped at
    what is available (QUANTITY_CAPPED), and the guest cart is closed
    (ABANDONED, its lines gone). A customer without an active cart takes the
    guest cart over as it is. Calling it again changes nothing and answers
    the customer's cart. Another customer's cart is NOT_FOUND."""
    lock_customer(user)
    guest = cart_locked(user=user, token=token)
    if guest.user_id == user.pk:  # already theirs (taken over, or their own)
        refuse_closed(guest)
        return guest
    if guest.state == CartState.COMPLETED:
        raise ServiceError(CHECKED_OUT, field="token")
    target = active_cart_of(user=user)
    if guest.state != CartState.ACTIVE:
        if target is None:
            raise ServiceError(CLOSED, field="token")
        return target  # merged before: nothing to do
    if target is None:
        guest.user = user
        guest.email = guest.email or user.email
        guest.save(update_fields=["user", "email", "updated_at"])
        return guest
    target = cart_locked(user=user, token=target.token)
    _move_lines(guest, target)
    _fill_blanks(guest, target)
    guest.state = CartState.ABANDONED
    guest.save(update_fields=["state", "updated_at"])
    return target
