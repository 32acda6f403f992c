"""The wishlist domain's root fields, merged into the schema in schema/schema.py.
Its list is `me.wishlist` (schema/accounts/types.py)."""

from .mutations import WishlistMutation

__all__ = ["WishlistMutation"]
