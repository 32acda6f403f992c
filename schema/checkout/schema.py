"""The checkout domain's root fields, merged into the schema in schema/schema.py.
A customer's cart is also `me.cart` (schema/accounts/types.py)."""

from .mutations import CheckoutMutation
from .queries import CheckoutQuery

__all__ = ["CheckoutMutation", "CheckoutQuery"]
