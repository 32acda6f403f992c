"""Where a cart ships and how: the address, checked as the address book
checks one, and a method that serves it."""

from typing import Any

from django.db import transaction

from apps.accounts.services import ADDRESS_FIELDS, address_checked
from apps.checkout.models import Cart
from apps.core.errors import ErrorCode, FieldError, NotFound, ServiceError
from apps.shipping.models import ShippingMethod
from apps.shipping.selectors import shipping_method_serves

from .access import Token, cart_for_change

ADDRESS_COLUMNS = [f"shipping_{name}" for name in ADDRESS_FIELDS]


@transaction.atomic
def cart_shipping_address_update(*, user: Any, token: Token, address: dict[str, Any]) -> Cart:
    """Replace the shipping address with `address` (an AddressInput's
    fields; those left out are blank). A chosen method that does not serve
    the new address stays chosen, with a SHIPPING_METHOD_UNAVAILABLE warning,
    until another is chosen: nothing changes behind the customer's back."""
    cart = cart_for_change(user=user, token=token)
    try:
        checked = address_checked(data=address)
    except ServiceError as error:
        raise ServiceError(errors=[
            FieldError(field=f"address.{e.field}" if e.field else "address",
                       message=e.message, code=e.code)
            for e in error.errors
        ]) from None
    for name in ADDRESS_FIELDS:
        setattr(cart, f"shipping_{name}", getattr(checked, name))
    cart.save(update_fields=[*ADDRESS_COLUMNS, "updated_at"])
    return cart


def cart_weight_grams(cart: Cart) -> int:
    """The parcel's weight: what the variants weigh (nothing when unknown)."""
    return sum((line.variant.weight_grams or 0) * line.quantity
               for line in cart.lines.select_related("variant"))


@transaction.atomic
def cart_shipping_method_update(*, user: Any, token: Token, method_id: int | None) -> Cart:
    """Choose how the cart ships: a method that serves its address and its
    weight, or INVALID."""
    cart = cart_for_change(user=user, token=token)
    method = ShippingMethod.objects.filter(pk=method_id).first() if method_id else None
    if method is None:
        raise NotFound("No shipping method with this ID.", field="shipping_method_id")
    if not cart.has_shipping_address:
        raise ServiceError("Give the shipping address first.", code=ErrorCode.REQUIRED,
                           field="shipping_address")
    if not shipping_method_serves(method=method, country=cart.shipping_country,
                                  weight_grams=cart_weight_grams(cart)):
        raise ServiceError(f"{method.name} does not ship this cart to "
                           f"{cart.shipping_country}.", field="shipping_method_id")
    cart.shipping_method = method
    cart.save(update_fields=["shipping_method", "updated_at"])
    return cart
