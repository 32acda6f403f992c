"""The payments domain's root fields, merged into the schema in schema/schema.py."""

from .queries import PaymentQuery

__all__ = ["PaymentQuery"]
