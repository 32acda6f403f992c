"""The shipping domain's root fields, merged into the schema in schema/schema.py."""

from .mutations import ShippingMutation
from .queries import ShippingQuery

__all__ = ["ShippingMutation", "ShippingQuery"]
