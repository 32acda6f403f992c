"""The discounts domain's root fields, merged into the schema in schema/schema.py."""

from .mutations import DiscountsMutation
from .queries import DiscountsQuery

__all__ = ["DiscountsMutation", "DiscountsQuery"]
