"""Cart and checkout writes, one module per topic: finding a cart to change
(access), making one and its email (carts), its lines, its coupon, where it
ships, merging a guest's cart into a customer's, and checkoutComplete.
Every refusal is a ServiceError; callers use the package
(`services.cart_lines_add`)."""

from .access import CHECKED_OUT, CLOSED
from .carts import cart_create, cart_email_update
from .complete import Checkout, checkout_complete
from .coupons import cart_coupon_apply, cart_coupon_remove
from .lines import (
    MAX_LINES,
    LineChange,
    LineWanted,
    cart_lines_add,
    cart_lines_remove,
    cart_lines_update,
)
from .merge import cart_merge
from .shipping import cart_shipping_address_update, cart_shipping_method_update

__all__ = [
    "CHECKED_OUT",
    "CLOSED",
    "Checkout",
    "LineChange",
    "LineWanted",
    "MAX_LINES",
    "cart_coupon_apply",
    "cart_coupon_remove",
    "cart_create",
    "cart_email_update",
    "cart_lines_add",
    "cart_lines_remove",
    "cart_lines_update",
    "cart_merge",
    "cart_shipping_address_update",
    "cart_shipping_method_update",
    "checkout_complete",
]
