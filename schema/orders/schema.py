"""The orders domain's root fields, merged into the schema in schema/schema.py.
The customer's list is `me.orders` (schema/accounts/types.py)."""

from .mutations import OrderMutation
from .queries import OrderQuery
from .subscriptions import OrderSubscription

__all__ = ["OrderMutation", "OrderQuery", "OrderSubscription"]
