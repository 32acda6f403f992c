"""The reviews domain's root fields, merged into the schema in schema/schema.py.
Reviews are read through their product (`Product.reviews`) and `node`."""

from .mutations import ReviewMutation

__all__ = ["ReviewMutation"]
